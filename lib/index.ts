/**
 * The lab's constructs, for any cdk8s app. None of them reads lab.config.yaml: they take props, with
 * defaults from lib/defaults.ts. The lab's own app (main.ts -> lib/synth.ts) adds the configuration file.
 */
export * from './cidr';
export * from './defaults';
export * from './calico-ip-pool';
export * from './calico-installation';
export * from './calico-chart';
export * from './multitool';
export * from './dual-stack-service';
export * from './multitool-chart';
export * from './kind-cluster-config';
export * from './coredns-config';
export * from './dns-chart';
export * from './tayga-config';
export { Lab, nameChartFilesById } from './lab';
export type { LabProps } from './lab';
export { DEFAULT_IPV6_ONLY, DEFAULT_LAB_CONFIG, labConfigSchema, labConfigJsonSchema } from './config-schema';
export type {
  DnsConfig, DualStackLabConfig, Ipv6OnlyLabConfig, LabConfig, LabConfigInput, Nat64Config, PoolConfig,
} from './config-schema';

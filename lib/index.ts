/**
 * The lab's constructs, for any cdk8s app. None of them reads lab.config.yaml: they take props, with
 * defaults from lib/defaults.ts. The lab's own app (main.ts -> lib/synth.ts) adds the configuration file.
 */
export * from './cidr';
export * from './special-ranges';
export * from './defaults';
export * from './as-number';
export * from './calico-ip-pool';
export * from './calico-bgp-configuration';
export * from './calico-bgp-peer';
export * from './calico-installation';
export * from './calico-chart';
export * from './multitool';
export * from './dual-stack-service';
export * from './multitool-chart';
export * from './kind-cluster-config';
export * from './frr-router-config';
export * from './default-deny-policy';
export * from './dns-egress-policy';
export * from './app-peer-policy';
export * from './external-host-policy';
export * from './calico-echo-policy';
export * from './network-policy-chart';
export * from './calico-policy-chart';
export * from './policy-matrix';
export * from './policy-lesson-facts';
export * from './coredns-config';
export * from './dns-chart';
export * from './tayga-config';
export { Lab, labPolicyMatrix, nameChartFilesById, placeChartFiles } from './lab';
export { FACTS_FILE, FACTS_VERSION, isLabFactsSection, labFactsJsonSchema, renderFacts } from './lab-facts';
export type { ILabFactsSection, LabFacts } from './lab-facts';
export type { LabPolicy, LabProps } from './lab';
export { DEFAULT_IPV6_ONLY, DEFAULT_LAB_CONFIG, labConfigSchema, labConfigJsonSchema } from './config-schema';
export type {
  DnsConfig, DualStackLabConfig, Ipv6OnlyLabConfig, LabConfig, LabConfigInput, Nat64Config, PoolConfig, RouterConfig,
} from './config-schema';

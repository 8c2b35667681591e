/**
 * The lab's default values, each written once: the constructs take them as their prop defaults and
 * the lab configuration (lib/config-schema.ts) as its defaults. Plain values, no dependencies, so any
 * cdk8s app can use the constructs without the lab's configuration loading.
 * The multitool image is the exception: it lives in lib/multitool.ts, where `npm run pin:multitool` pins it.
 */
import type { EncapsulationMode } from './cidr';

/** kind cluster name; the kubeconfig is ./<name>.kubeconfig. */
export const DEFAULT_CLUSTER_NAME = 'ipv6-lab';

/**
 * Workers beside the control plane. At least one: the lab's cross-node checks (ping and curl between
 * pods on different nodes, one IPv4 and one IPv6 block per node) need a second node.
 */
export const DEFAULT_WORKERS = 2;
export const WORKERS_RANGE: readonly [number, number] = [1, 10];

/** kind v0.25.0's node image for Kubernetes 1.28.15, pinned by digest as kind's release notes ask. */
export const KIND_NODE_IMAGE =
  'kindest/node:v1.28.15@sha256:a7c05c7ae043a0b8c818f5a06188bc2c4098f6cb59ca7d1856df00375d839251';

/** One Calico IP pool as the lab configures it. */
export interface PoolDefaults {
  readonly cidr: string;
  readonly blockSize: number;
  readonly vxlanMode: EncapsulationMode;
  readonly ipipMode: EncapsulationMode;
  readonly natOutgoing: boolean;
}

/** The lab README's pools: IPv4 192.168.0.0/16 /26 VXLAN CrossSubnet, IPv6 fd00:10:244::/48 /122 VXLAN Always, NAT. */
export const DEFAULT_POOLS: { readonly ipv4: PoolDefaults; readonly ipv6: PoolDefaults } = {
  ipv4: { cidr: '192.168.0.0/16', blockSize: 26, vxlanMode: 'CrossSubnet', ipipMode: 'Never', natOutgoing: true },
  ipv6: { cidr: 'fd00:10:244::/48', blockSize: 122, vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: true },
};

/** kind's default service subnets, dual-stack. */
export const DEFAULT_SERVICE_SUBNETS: { readonly ipv4: string; readonly ipv6: string } = {
  ipv4: '10.96.0.0/16',
  ipv6: 'fd00:10:96::/112',
};

/** Port nginx listens on in the multitool pods, on both families (the Services' targetPort). */
export const DEFAULT_APP_PORT = 8080;

/** Port of the dual-stack and IPv6-only Services. */
export const DEFAULT_SERVICE_PORT = 80;

/**
 * The NAT64 prefix of an IPv6-only lab: CoreDNS's dns64 synthesizes AAAA records in it and tayga
 * translates it. A network-specific prefix in the lab's own ULA space (beside the pods' fd00:10:244::/48
 * and the Services' fd00:10:96::/112): the well-known 64:ff9b::/96 is not allowed for non-global IPv4
 * addresses (RFC 6052, section 3.1), tayga drops them, and the lab's IPv4 hosts sit on Docker's private
 * network; RFC 8215's local-use 64:ff9b:1::/48 is refused by Debian 12's tayga 0.9.2 as a reserved address
 * (Debian bug 1061773, fixed in later packages).
 */
export const DEFAULT_NAT64_PREFIX = 'fd00:10:64::/96';

/**
 * The IPv6 subnet of the Docker network kind creates (named `kind`): kind v0.25.0 derives it from the
 * network's name (generateULASubnetFromName("kind", 0)), so it is the same on every machine.
 */
export const KIND_NETWORK_IPV6_SUBNET = 'fc00:f853:ccd:e793::/64';

/** An IPv6-only lab's NAT64 gateway on kind's network: tayga's host, next hop of the nodes' route to the prefix. */
export const DEFAULT_NAT64_GATEWAY = 'fc00:f853:ccd:e793::64';

/** The IPv4 addresses tayga maps IPv6 clients to (its dynamic-pool; Debian's tayga.conf example uses it too). */
export const DEFAULT_NAT64_IPV4_POOL = '192.168.255.0/24';

/**
 * The resolver an IPv6-only lab's CoreDNS forwards to: a DNS forwarder on kind's network, reachable over
 * IPv6, in front of Docker's embedded DNS (which listens on 127.0.0.11 only, kind#3114, kind#4152).
 */
export const DEFAULT_DNS_UPSTREAM = 'fc00:f853:ccd:e793::53';

/** The cluster's DNS domain: kind and kubeadm's default. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Namespace of the workload and Services when neither the props nor the chart name one. */
export const DEFAULT_NAMESPACE = 'default';

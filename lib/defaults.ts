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

/**
 * The image of an IPv6-only lab's DNS forwarder: CoreDNS v1.10.1, the version kubeadm v1.28.15 deploys in
 * the cluster (and whose Corefile parser the e2e suite runs), pinned by the digest of its multi-arch index
 * as coredns/corefile-migration's versions.go records it (dockerImageSHA of 1.10.1). The image is
 * `FROM scratch` with /coredns as its entrypoint: no shell, so deploy copies the Corefile in (docker cp).
 */
export const DNS_FORWARDER_IMAGE =
  'registry.k8s.io/coredns/coredns:v1.10.1@sha256:a0ead06651cf580044aeb0a0feba63591858fb2e43ade8c9dea45a6a89ae7e5e';

/**
 * The image of an IPv6-only lab's NAT64 gateway, built by deploy.sh on first use (no registry publishes a
 * versioned tayga image): Debian 12 with Debian's tayga 0.9.2-8, the very package the NAT64 test
 * (__tests__/scripts/nat64-tayga.bats) translates real packets with, and iproute2 for the gateway's routes.
 * The package version is pinned: if Debian ever moves it, the build fails instead of running another tayga.
 */
export const NAT64_GATEWAY_IMAGE = {
  name: 'calico-ipv6-lab/tayga:0.9.2-8',
  base: 'debian:bookworm-slim',
  packages: ['tayga=0.9.2-8', 'iproute2'],
} as const;

/** The cluster's DNS domain: kind and kubeadm's default. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Namespace of the workload and Services when neither the props nor the chart name one. */
export const DEFAULT_NAMESPACE = 'default';

/** How pod traffic crosses nodes: VXLAN tunnels (the lab README's), or native routing announced over BGP. */
export type Routing = 'vxlan' | 'bgp';
export const ROUTINGS: readonly Routing[] = ['vxlan', 'bgp'];
export const DEFAULT_ROUTING: Routing = 'vxlan';

/** The cluster's AS number: Calico's own default (BGPConfiguration asNumber, a private AS of RFC 6996). */
export const DEFAULT_CLUSTER_AS_NUMBER = 64512;

/**
 * The external router of `routing: bgp`, an FRR container on kind's Docker network.
 *
 * The network is kind's default: Docker picks the IPv4 /16 from its pools (172.18.0.0/16 when docker0 holds
 * 172.17.0.0/16, as on a fresh Docker), and kind derives the IPv6 /64 from the network's name (a ULA,
 * fc00:f853:ccd:e793::/64 for "kind"). Docker hands containers addresses from the low end of each range
 * (.1 is the gateway, the nodes get .2, .3, ..., the lab's external host the next one), so the router's
 * fixed addresses are host 65534 of each range, the far end: no container Docker starts on the network
 * reaches them before 65,000 others.
 */
export const DEFAULT_ROUTER = {
  /** A private AS of RFC 6996, other than the cluster's: the lab teaches eBGP. */
  asNumber: 65000,
  peerIPs: { ipv4: '172.18.255.254', ipv6: 'fc00:f853:ccd:e793::fffe' },
  network: { ipv4: '172.18.0.0/16', ipv6: 'fc00:f853:ccd:e793::/64' },
  /**
   * FRR's official image (quay.io since FRR 8.4.2), at the release nearest Debian bookworm's `frr` 8.4.4,
   * which the real-FRR test loads the synthesized configuration into. FRR built no image of 8.4.3 or
   * 8.4.4: its release procedure tags the commit of each image it pushes (docker/X.Y.Z), and the 8.4
   * series has docker/8.4.0, 8.4.1, 8.4.2, 8.4.5, 8.4.6 and 8.4.7. 8.4.5 is 8.4.4 plus bug and security
   * fixes (bgpd's attribute parsing, the CVEs Debian backports into its 8.4.4). Pinned by tag: the
   * registry cannot be reached from where this was written to read its digest.
   */
  image: 'quay.io/frrouting/frr:8.4.5',
} as const;

/**
 * The versions the lab is built and tested for: kind's node image above is Kubernetes v1.28.15 for kind
 * v0.25.0; Calico v3.28.5's tigera-operator.yaml deploys operator v1.34.13 (deploy.sh pins its sha256).
 */
export const LAB_VERSIONS = {
  kubernetes: 'v1.28.15',
  calico: 'v3.28.5',
  tigeraOperator: 'v1.34.13',
  kind: 'v0.25.0',
} as const;

/** The network-policy lesson: "off" (the lab without policy) or "on" (lib/network-policy-chart.ts, lib/calico-policy-chart.ts). */
export type PolicyMode = 'off' | 'on';
export const POLICY_MODES: readonly PolicyMode[] = ['off', 'on'];
export const DEFAULT_POLICY: PolicyMode = 'off';

/**
 * The external host's addresses on kind's Docker network (`<cluster>-external`). Docker hands out
 * addresses from the bottom of each subnet (.2, .3, ... and ::2, ::3, ...: the gateway, the nodes, then
 * any later container), so fixed addresses at the top of kind's default 172.18.0.0/16 and far up its
 * fc00:f853:ccd:e793::/64 never meet them. Both end in 250 (0xfa) to read as a pair.
 */
export const DEFAULT_EXTERNAL_HOST: { readonly ipv4: string; readonly ipv6: string } = {
  ipv4: '172.18.255.250',
  ipv6: 'fc00:f853:ccd:e793:ffff::fa',
};

/** The cluster DNS as kubeadm deploys it: CoreDNS pods labelled k8s-app=kube-dns in kube-system, port 53. */
export const CLUSTER_DNS: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>>; readonly port: number } = {
  namespace: 'kube-system',
  podLabels: { 'k8s-app': 'kube-dns' },
  port: 53,
};

/** Order of the lesson's Calico policy: below 1000, the order Calico gives every Kubernetes NetworkPolicy, so it is evaluated first. */
export const DEFAULT_ECHO_POLICY_ORDER = 100;

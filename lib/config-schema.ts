/**
 * The lab configuration, defined once: a TypeBox definition gives both the TypeScript types and the
 * JSON Schema that validates lab.config.yaml (ajv, lib/lab-config.ts) and that editors read
 * (lab.config.schema.json, written by `npm run gen:schema`).
 *
 * TypeBox is loaded only when the schema is asked for: it is a third of the synth app's start-up, and a
 * synth without a configuration file has nothing to validate. Its types cost nothing at run time.
 */
import type { ObjectOptions, Static, TObject, TProperties } from '@sinclair/typebox';
import { AS_NUMBER_RANGE, PRIVATE_AS_NUMBERS } from './as-number';
import { BLOCK_SIZE_RANGE, DUAL_STACK, ENCAPSULATION_MODES, EncapsulationMode, FAMILY_NAME, IPV6_ONLY, IpFamily, K8sIpFamily } from './cidr';
import {
  DEFAULT_APP_PORT, DEFAULT_CLUSTER_AS_NUMBER, DEFAULT_CLUSTER_NAME, DEFAULT_DNS_UPSTREAM, DEFAULT_EXTERNAL_HOST,
  DEFAULT_NAT64_GATEWAY, DEFAULT_NAT64_IPV4_POOL, DEFAULT_NAT64_PREFIX, DEFAULT_POLICY, DEFAULT_POOLS, DEFAULT_ROUTER,
  DEFAULT_ROUTING, DEFAULT_SERVICE_PORT, DEFAULT_SERVICE_SUBNETS, DEFAULT_WORKERS, KIND_NETWORK_IPV6_SUBNET,
  KIND_NODE_IMAGE, POLICY_MODES, PolicyMode, ROUTINGS, Routing, WORKERS_RANGE,
} from './defaults';
import { MULTITOOL_DEFAULT_IMAGE } from './multitool';
import { DNS1123_LABEL } from './validate';

/**
 * Schema keyword holding the words that follow "allowed:" in a problem message, where the limits alone
 * would not say enough. VS Code's JSON and YAML language servers show it for a value that fails a pattern.
 */
export const ALLOWED_KEYWORD = 'errorMessage';

/** The words after "allowed:" for `ipFamilies`, in schema and semantic messages alike. */
export const IP_FAMILIES_ALLOWED = `${JSON.stringify(DUAL_STACK)} (dual-stack, the default) or ${JSON.stringify(IPV6_ONLY)} (IPv6-only)`;

// name[:tag][@sha256:digest], lower-case repository as the OCI distribution spec requires.
const IMAGE_REFERENCE_PATTERN = '^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$';

function buildSchema() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Type } = require('@sinclair/typebox') as typeof import('@sinclair/typebox');
  // Every key is optional (a missing key takes the default) and no other key is allowed.
  const object = <T extends TProperties>(properties: T, options: ObjectOptions) =>
    Type.Partial(Type.Object(properties, { additionalProperties: false, ...options }));

  const imageReference = (description: string, defaultValue?: string) => Type.String({
    pattern: IMAGE_REFERENCE_PATTERN,
    [ALLOWED_KEYWORD]: 'an image reference such as "registry/name:tag" or "name@sha256:<64 hex>"',
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

  // An enum, not TypeBox's union of literals: ajv then reports one error listing the allowed values.
  const encapsulation = (description: string, defaultValue: EncapsulationMode) =>
    Type.Unsafe<EncapsulationMode>({ enum: [...ENCAPSULATION_MODES], description, default: defaultValue });

  const port = (description: string, defaultValue: number) =>
    Type.Integer({ minimum: 1, maximum: 65535, description, default: defaultValue });

  const asNumber = (description: string, defaultValue: number) => Type.Integer({
    minimum: AS_NUMBER_RANGE[0],
    maximum: AS_NUMBER_RANGE[1],
    [ALLOWED_KEYWORD]: `an AS number from ${AS_NUMBER_RANGE[0]} to ${AS_NUMBER_RANGE[1]}, best ${PRIVATE_AS_NUMBERS}`,
    description,
    default: defaultValue,
  });

  const perFamily = (what: (family: IpFamily) => string, defaults: { ipv4: string; ipv6: string }, description: string) => object({
    ipv4: Type.String({ description: what('ipv4'), default: defaults.ipv4 }),
    ipv6: Type.String({ description: what('ipv6'), default: defaults.ipv6 }),
  }, { description });

  const pool = (family: IpFamily) => {
    const [min, max] = BLOCK_SIZE_RANGE[family];
    const d = DEFAULT_POOLS[family];
    const name = FAMILY_NAME[family];
    return object({
      cidr: Type.String({
        description: `The ${name} pod network: an ${name} CIDR (network address). Also kind's podSubnet. Must not overlap the other ranges.`,
        default: d.cidr,
      }),
      blockSize: Type.Integer({
        minimum: min,
        maximum: max,
        [ALLOWED_KEYWORD]: `${min} to ${max} for an ${name} pool`,
        description: `Prefix length of the address blocks Calico IPAM hands each node (${min}-${max}, not shorter than the pool's prefix).`,
        default: d.blockSize,
      }),
      vxlanMode: encapsulation('VXLAN encapsulation between nodes: Never, Always or CrossSubnet (only between subnets). Under routing "bgp": "Never" (its default there).', d.vxlanMode),
      ipipMode: encapsulation(
        family === 'ipv4'
          ? 'IP-in-IP encapsulation; "Never" unless vxlanMode is "Never" (a pool uses one encapsulation), and "Never" under routing "bgp".'
          : 'IP-in-IP encapsulation; must be "Never": Calico has no IP-in-IP for IPv6.',
        d.ipipMode,
      ),
      natOutgoing: Type.Boolean({ description: 'Masquerade pod traffic leaving every pool.', default: d.natOutgoing }),
    }, { description: `The ${name} Calico IPPool (default-${family}-ippool).` });
  };

  return object({
    clusterName: Type.String({
      maxLength: 50,
      pattern: DNS1123_LABEL.source,
      [ALLOWED_KEYWORD]: "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
      description: 'kind cluster name (a DNS-1123 label, at most 50 characters); the kubeconfig is ./<clusterName>.kubeconfig.',
      default: DEFAULT_CLUSTER_NAME,
    }),
    workers: Type.Integer({
      minimum: WORKERS_RANGE[0],
      maximum: WORKERS_RANGE[1],
      description: `kind worker nodes beside the control plane (${WORKERS_RANGE[0]}-${WORKERS_RANGE[1]}). At least one: the lab checks traffic between pods on different nodes.`,
      default: DEFAULT_WORKERS,
    }),
    kindNodeImage: imageReference('kind node image, pinned by digest (kind v0.25.0\'s image for Kubernetes 1.28.15).', KIND_NODE_IMAGE),
    ipFamilies: Type.Array(Type.Unsafe<K8sIpFamily>({ enum: [...DUAL_STACK] }), {
      minItems: 1,
      uniqueItems: true,
      [ALLOWED_KEYWORD]: IP_FAMILIES_ALLOWED,
      description: 'The address families of the cluster, its pods and Services. ["IPv6"] is the IPv6-only lab: no IPv4 pool, '
        + 'IPv6-only Services, and DNS64/NAT64 (keys nat64 and dns) so pods reach IPv4-only hosts. See docs/ipv6-only.md.',
      default: [...DUAL_STACK],
    }),
    pools: object({ ipv4: pool('ipv4'), ipv6: pool('ipv6') }, {
      description: 'The Calico IP pools; pods get one address from each. An IPv6-only lab has no ipv4 pool.',
    }),
    serviceSubnets: object({
      ipv4: Type.String({ description: 'IPv4 Service ClusterIP range: a CIDR of /12 or longer. Not in an IPv6-only lab.', default: DEFAULT_SERVICE_SUBNETS.ipv4 }),
      ipv6: Type.String({ description: 'IPv6 Service ClusterIP range: a CIDR of /108 or longer.', default: DEFAULT_SERVICE_SUBNETS.ipv6 }),
    }, { description: "kind's serviceSubnet, one range per family." }),
    multitool: object({
      image: imageReference('The network-multitool image (default: the alpine-extra variant; `npm run pin:multitool` pins it by digest).'),
      port: port('Port nginx listens on in the pods, on each of the lab\'s families (the Services\' targetPort).', DEFAULT_APP_PORT),
      servicePort: port('Port of the dual-stack and the IPv6-only Service (an IPv6-only lab has only the latter).', DEFAULT_SERVICE_PORT),
    }, { description: 'The test workload: a DaemonSet whose nginx answers on both families, and its two Services.' }),
    routing: Type.Unsafe<Routing>({
      enum: [...ROUTINGS],
      description: 'How pod traffic crosses nodes: "vxlan" (tunnels, the lab README\'s) or "bgp" (native routing: unencapsulated pools whose routes the nodes announce over BGP, to each other and to an external FRR router).',
      default: DEFAULT_ROUTING,
    }),
    bgp: object({
      asNumber: asNumber('The cluster\'s AS number (BGPConfiguration default, asNumber): every node\'s, for the node-to-node mesh and towards the router.', DEFAULT_CLUSTER_AS_NUMBER),
    }, { description: 'Calico\'s BGP settings under routing "bgp".' }),
    router: object({
      asNumber: asNumber('The router\'s AS number (the BGPPeers\' asNumber); another than bgp.asNumber: the sessions are eBGP.', DEFAULT_ROUTER.asNumber),
      peerIPs: perFamily(
        family => `The router's ${FAMILY_NAME[family]} address on kind's Docker network (the ${family} BGPPeer's peerIP); inside router.network.${family}, outside every pool and Service range.`,
        DEFAULT_ROUTER.peerIPs,
        'The router\'s addresses, one per family; the defaults are the far end of kind\'s default network, which Docker fills from the low end.',
      ),
      network: perFamily(
        family => `kind's Docker network, ${FAMILY_NAME[family]} (docker network inspect kind): the router accepts BGP sessions from any address in it.`,
        DEFAULT_ROUTER.network,
        'kind\'s Docker network, where the nodes and the router are: Docker, not the lab, picks the nodes\' addresses, so the router listens to the whole range.',
      ),
      image: imageReference('The router\'s image: FRR\'s official image, pinned by tag.', DEFAULT_ROUTER.image),
    }, { description: 'The external router of routing "bgp": an FRR container on kind\'s Docker network, peering eBGP with every node over IPv4 and IPv6.' }),
    policy: Type.Unsafe<PolicyMode>({
      enum: [...POLICY_MODES],
      description: 'The network-policy lesson: "on" adds, in policy/ of the output, a default deny of both directions for the lab\'s namespace, allows for DNS, for the lab\'s pods on the app port and for the external host over IPv6 only, and a Calico policy allowing ping over both families (docs/policy.md). Unquoted on and off are strings here (YAML 1.2).',
      default: DEFAULT_POLICY,
    }),
    externalHost: object({
      ipv4: Type.String({
        description: "The external host's IPv4 address on kind's Docker network: a host address (no prefix), outside the pools and Service ranges. The default sits at the top of kind's 172.18.0.0/16, above the addresses Docker hands out.",
        default: DEFAULT_EXTERNAL_HOST.ipv4,
      }),
      ipv6: Type.String({
        description: "The external host's IPv6 address on kind's Docker network (fc00:f853:ccd:e793::/64 by default): the one address the policy lesson lets connect to the pods.",
        default: DEFAULT_EXTERNAL_HOST.ipv6,
      }),
    }, { description: 'The <clusterName>-external container deploy.sh runs on kind\'s Docker network: a host outside the cluster the pods reach (egress, NAT) and, with policy on, that reaches the pods.' }),
    nat64: object({
      prefix: Type.String({
        description: 'The NAT64 prefix, an IPv6 /96: CoreDNS\'s dns64 synthesizes AAAA records in it for IPv4-only names, and tayga '
          + 'translates it to IPv4. Not the well-known 64:ff9b::/96, which RFC 6052 forbids for private IPv4 addresses such as Docker\'s, '
          + 'nor RFC 8215\'s 64:ff9b:1::/48, which Debian 12\'s tayga refuses.',
        default: DEFAULT_NAT64_PREFIX,
      }),
      gateway: Type.String({
        description: `IPv6 address of the NAT64 host (tayga) on kind's Docker network (${KIND_NETWORK_IPV6_SUBNET} for the network kind creates); `
          + 'the nodes route the prefix to it.',
        default: DEFAULT_NAT64_GATEWAY,
      }),
      ipv4Pool: Type.String({
        description: 'IPv4 CIDR (a /31 or shorter) tayga maps IPv6 clients to: the source address IPv4-only hosts see.',
        default: DEFAULT_NAT64_IPV4_POOL,
      }),
    }, { description: 'IPv6-only labs only (ipFamilies ["IPv6"]): the NAT64 that lets IPv6-only pods reach IPv4-only hosts.' }),
    dns: object({
      upstream: Type.String({
        description: `IPv6 address of the resolver CoreDNS forwards to: a DNS forwarder on kind's Docker network (${KIND_NETWORK_IPV6_SUBNET} `
          + 'for the network kind creates) in front of Docker\'s embedded DNS, which answers on IPv4 only.',
        default: DEFAULT_DNS_UPSTREAM,
      }),
    }, { description: 'IPv6-only labs only (ipFamilies ["IPv6"]): where CoreDNS sends the names outside the cluster.' }),
  }, {
    title: 'calico-ipv6-lab configuration (lab.config.yaml)',
    description: 'Every key is optional; a missing key takes the lab\'s default.',
  });
}

/** Every key required and readonly, as the constructs receive it. */
type Complete<T> = { readonly [K in keyof T]-?: NonNullable<T[K]> extends object ? Complete<NonNullable<T[K]>> : NonNullable<T[K]> };

/** A configuration as a user writes it in lab.config.yaml: every key optional. */
export type LabConfigInput = Static<ReturnType<typeof buildSchema>>;
type Resolved = Complete<Static<ReturnType<typeof buildSchema>>>;
type FamilyKeys = 'ipFamilies' | 'pools' | 'serviceSubnets' | 'nat64' | 'dns';
export type PoolConfig = Resolved['pools']['ipv4'];
export type Nat64Config = Resolved['nat64'];
export type DnsConfig = Resolved['dns'];
export type RouterConfig = Resolved['router'];

/** A complete, validated dual-stack configuration: a pool and a service range per family, no NAT64. */
export interface DualStackLabConfig extends Omit<Resolved, FamilyKeys> {
  readonly ipFamilies: typeof DUAL_STACK;
  readonly pools: Resolved['pools'];
  readonly serviceSubnets: Resolved['serviceSubnets'];
  readonly nat64?: undefined;
  readonly dns?: undefined;
}

/** A complete, validated IPv6-only configuration: IPv6 pool and service range only, with NAT64 and DNS. */
export interface Ipv6OnlyLabConfig extends Omit<Resolved, FamilyKeys> {
  readonly ipFamilies: typeof IPV6_ONLY;
  readonly pools: { readonly ipv4?: undefined; readonly ipv6: PoolConfig };
  readonly serviceSubnets: { readonly ipv4?: undefined; readonly ipv6: string };
  readonly nat64: Nat64Config;
  readonly dns: DnsConfig;
}

/** A complete, validated configuration (see `resolveLabConfig`); `ipFamilies` tells the variants apart. */
export type LabConfig = DualStackLabConfig | Ipv6OnlyLabConfig;

let schema: TObject | undefined;

/** The JSON Schema of lab.config.yaml (a TypeBox schema is a JSON Schema); built on first use. */
export function labConfigSchema(): TObject {
  schema ??= buildSchema();
  return schema;
}

/** The schema as written to lab.config.schema.json: plain JSON, with the draft it follows. */
export function labConfigJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...JSON.parse(JSON.stringify(labConfigSchema())) };
}

/** The lab's values: every default equals what the lab's README shows. */
export const DEFAULT_LAB_CONFIG: DualStackLabConfig = {
  clusterName: DEFAULT_CLUSTER_NAME,
  workers: DEFAULT_WORKERS,
  kindNodeImage: KIND_NODE_IMAGE,
  ipFamilies: DUAL_STACK,
  pools: { ipv4: { ...DEFAULT_POOLS.ipv4 }, ipv6: { ...DEFAULT_POOLS.ipv6 } },
  serviceSubnets: { ...DEFAULT_SERVICE_SUBNETS },
  multitool: {
    image: MULTITOOL_DEFAULT_IMAGE,
    port: DEFAULT_APP_PORT,
    servicePort: DEFAULT_SERVICE_PORT,
  },
  routing: DEFAULT_ROUTING,
  bgp: { asNumber: DEFAULT_CLUSTER_AS_NUMBER },
  router: {
    asNumber: DEFAULT_ROUTER.asNumber,
    peerIPs: { ...DEFAULT_ROUTER.peerIPs },
    network: { ...DEFAULT_ROUTER.network },
    image: DEFAULT_ROUTER.image,
  },
  policy: DEFAULT_POLICY,
  externalHost: { ...DEFAULT_EXTERNAL_HOST },
};


/** What an IPv6-only lab adds: the NAT64 and DNS defaults (the keys a dual-stack lab refuses). */
export const DEFAULT_IPV6_ONLY: { readonly nat64: Nat64Config; readonly dns: DnsConfig } = {
  nat64: { prefix: DEFAULT_NAT64_PREFIX, gateway: DEFAULT_NAT64_GATEWAY, ipv4Pool: DEFAULT_NAT64_IPV4_POOL },
  dns: { upstream: DEFAULT_DNS_UPSTREAM },
};

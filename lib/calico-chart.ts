import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { CalicoBgpConfiguration, CalicoBgpConfigurationProps } from './calico-bgp-configuration';
import { CalicoBgpPeer, CalicoBgpPeerProps } from './calico-bgp-peer';
import { CalicoInstallation } from './calico-installation';
import { CalicoIpPool, CalicoIpPoolProps } from './calico-ip-pool';
import { CalicoNodeStatusReport, CalicoNodeStatusReportProps } from './calico-node-status-report';
import { DUAL_STACK, LabIpFamilies, checkLabIpFamilies, isIpv6Only } from './cidr';
import { DEFAULT_POOLS } from './defaults';

/** A pool of the chart: every CalicoIpPool prop but the name, which the chart sets. */
export type CalicoChartPool = Omit<CalicoIpPoolProps, 'name'>;

export interface CalicoChartProps extends ChartProps {
  /**
   * The address families: `["IPv4", "IPv6"]` (dual-stack) or `["IPv6"]` (IPv6-only: no IPv4 pool, and an
   * Installation without IPv4 node-address autodetection).
   * @default ["IPv4", "IPv6"]
   */
  readonly ipFamilies?: LabIpFamilies;
  /**
   * The IPv4 pool, named `default-ipv4-ippool`; not allowed with `ipFamilies: ["IPv6"]`.
   * @default - 192.168.0.0/16, blocks of /26, VXLAN CrossSubnet, NAT outgoing
   */
  readonly ipv4Pool?: CalicoChartPool;
  /**
   * The IPv6 pool, named `default-ipv6-ippool`.
   * @default - fd00:10:244::/48, blocks of /122, VXLAN Always, NAT outgoing
   */
  readonly ipv6Pool?: CalicoChartPool;
  /**
   * Run BIRD and a BGP mesh (see `CalicoInstallationProps.bgp`). VXLAN pools do not need it; pools
   * with IP-in-IP or without encapsulation do (the operator refuses them without BGP).
   * @default - false, or true when a pool uses IP-in-IP or no encapsulation, or BGP objects are given
   */
  readonly bgp?: boolean;
  /**
   * The cluster-wide `BGPConfiguration` named `default`: the cluster's AS number, the node-to-node mesh,
   * the Service ranges the nodes advertise. Needs BGP.
   * @default - none: calico-node's own defaults (AS 64512, mesh on, no Service advertised)
   */
  readonly bgpConfiguration?: CalicoBgpConfigurationProps;
  /**
   * BGP peers outside the cluster, one `BGPPeer` each. Needs BGP.
   * @default - none
   */
  readonly bgpPeers?: readonly CalicoBgpPeerProps[];
  /**
   * `CalicoNodeStatus` objects, one per node whose calico-node should report its BGP sessions, BIRD's
   * state and routes into the object's status (what verify and explain read under routing "bgp").
   * @default - none
   */
  readonly nodeStatuses?: readonly CalicoNodeStatusReportProps[];
}

/** Why a pool needs BIRD's routes, as the operator's Installation validation puts it; undefined for VXLAN. */
function bgpNeed(pool: CalicoChartPool): string | undefined {
  if ((pool.ipipMode ?? 'Never') !== 'Never') return `uses ipipMode ${JSON.stringify(pool.ipipMode)}, and only BIRD programs IP-in-IP routes`;
  if ((pool.vxlanMode ?? 'Always') === 'Never') return 'is unencapsulated (vxlanMode and ipipMode "Never"), and only BIRD programs its routes';
  return undefined;
}

/**
 * Calico for the lab: its IP pools (IPv4 and IPv6, or IPv6 alone), then the operator's Installation and
 * APIServer. BGP stays off unless asked for or a pool cannot work without it.
 *
 * The pools come first in the file on purpose: the operator reads the pools that exist when it
 * reconciles the Installation to decide which families the CNI assigns (`assign_ipv4`, `assign_ipv6`)
 * and, with no IPv4 pool and no IPv4 autodetection, renders calico-node with `IP=none`.
 */
export class CalicoChart extends Chart {
  public readonly ipFamilies: LabIpFamilies;
  /** The IPv4 pool; undefined in an IPv6-only chart. */
  public readonly ipv4Pool?: CalicoIpPool;
  public readonly ipv6Pool: CalicoIpPool;
  /** Every pool of the chart, IPv4 first. */
  public readonly pools: readonly CalicoIpPool[];
  public readonly installation: CalicoInstallation;
  /** The `BGPConfiguration`, when the props give one. */
  public readonly bgpConfiguration?: CalicoBgpConfiguration;
  public readonly bgpPeers: readonly CalicoBgpPeer[];
  private readonly statuses: CalicoNodeStatusReport[] = [];

  constructor(scope: Construct, id: string, props: CalicoChartProps = {}) {
    super(scope, id, { disableResourceNameHashes: true, ...props });
    this.ipFamilies = checkLabIpFamilies('ipFamilies', props.ipFamilies ?? DUAL_STACK);
    const ipv6Only = isIpv6Only(this.ipFamilies);
    if (ipv6Only && props.ipv4Pool) {
      throw new Error(`invalid ipv4Pool ${JSON.stringify(props.ipv4Pool.cidr)} with ipFamilies ["IPv6"]: an ipv6-only chart has no ipv4 pool`);
    }
    const v4 = ipv6Only ? undefined : props.ipv4Pool ?? DEFAULT_POOLS.ipv4;
    const v6 = props.ipv6Pool ?? DEFAULT_POOLS.ipv6;
    this.ipv4Pool = v4 && new CalicoIpPool(this, 'Ipv4Pool', { name: 'default-ipv4-ippool', ...v4 });
    this.ipv6Pool = new CalicoIpPool(this, 'Ipv6Pool', { name: 'default-ipv6-ippool', ...v6 });
    if ((this.ipv4Pool && this.ipv4Pool.family !== 'ipv4') || this.ipv6Pool.family !== 'ipv6') {
      const cidrs = v4 ? [v4.cidr, v6.cidr] : [v6.cidr];
      throw new Error(`invalid pools ${JSON.stringify(cidrs)}: ${v4 ? 'the first must be ipv4 and the second ipv6' : 'the pool must be ipv6'}`);
    }
    this.pools = this.ipv4Pool ? [this.ipv4Pool, this.ipv6Pool] : [this.ipv6Pool];
    const specs = v4 ? [v4, v6] : [v6];
    const needs = specs.flatMap(p => (bgpNeed(p) ? [`pool ${p.cidr} ${bgpNeed(p)}`] : []));
    if (props.bgp === false && needs.length > 0) {
      throw new Error(`invalid bgp false: ${needs.join('; ')}; set bgp true or use vxlanMode "Always" or "CrossSubnet" with ipipMode "Never"`);
    }
    const peers = props.bgpPeers ?? [];
    const bgpObjects = props.bgpConfiguration !== undefined || peers.length > 0;
    if (props.bgp === false && bgpObjects) {
      throw new Error('invalid bgp false with a bgp configuration or bgp peers: only BIRD reads them; set bgp true or leave them out');
    }
    const names = peers.map(p => p.name);
    if (new Set(names).size !== names.length) {
      throw new Error(`invalid bgp peers ${JSON.stringify(names)}: every peer needs its own name`);
    }
    if (props.bgpConfiguration) {
      this.bgpConfiguration = new CalicoBgpConfiguration(this, 'BgpConfiguration', props.bgpConfiguration);
    }
    this.bgpPeers = peers.map(p => new CalicoBgpPeer(this, `BgpPeer-${p.name}`, p));
    this.installation = new CalicoInstallation(this, 'Installation', { bgp: props.bgp ?? (needs.length > 0 || bgpObjects), ipFamilies: this.ipFamilies });
    // The operator reads the pools when it first reconciles; calico-node reads the BGP objects when it starts.
    this.installation.node.addDependency(...this.pools, ...(this.bgpConfiguration ? [this.bgpConfiguration] : []), ...this.bgpPeers);
    this.addNodeStatuses(props.nodeStatuses ?? []);
  }

  /** The `CalicoNodeStatus` objects, in the order they were added. */
  public get nodeStatuses(): readonly CalicoNodeStatusReport[] {
    return [...this.statuses];
  }

  /** Adds a `CalicoNodeStatus` per entry (after the other objects: calico-node reports whenever they appear). */
  public addNodeStatuses(statuses: readonly CalicoNodeStatusReportProps[]): void {
    for (const s of statuses) {
      const name = s.name ?? s.node;
      if (this.statuses.some(t => t.name === name)) {
        throw new Error(`invalid node status ${JSON.stringify(name)}: the chart has one of that name already`);
      }
      this.statuses.push(new CalicoNodeStatusReport(this, `NodeStatus-${name}`, s));
    }
  }

}

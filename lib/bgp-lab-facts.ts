import { Construct } from 'constructs';
import { CalicoBgpConfiguration } from './calico-bgp-configuration';
import { CalicoBgpPeer } from './calico-bgp-peer';
import { CalicoNodeStatusReport } from './calico-node-status-report';
import { FAMILY_NAME } from './cidr';
import { FrrRouterConfig } from './frr-router-config';
import { ILabFactsSection } from './lab-facts';

export interface BgpLabFactsProps {
  /** The cluster-wide BGPConfiguration (the cluster's AS number, the mesh, the Service ranges). */
  readonly bgpConfiguration: CalicoBgpConfiguration;
  /** The BGPPeers to the router, one per family of the lab. */
  readonly bgpPeers: readonly CalicoBgpPeer[];
  /** The CalicoNodeStatus objects calico-node reports into, one per node. */
  readonly nodeStatuses: readonly CalicoNodeStatusReport[];
  /** The router's FRR configuration. */
  readonly router: FrrRouterConfig;
  /** The router's container image. */
  readonly routerImage: string;
}

/**
 * The `bgp` section of the lab's facts (routing "bgp"): what deploy, verify, explain and destroy need to
 * run the external router and check the sessions and routes, read from the constructs that configure them.
 */
export class BgpLabFacts extends Construct implements ILabFactsSection {
  public readonly factsKey = 'bgp';
  private readonly props: BgpLabFactsProps;

  constructor(scope: Construct, id: string, props: BgpLabFactsProps) {
    super(scope, id);
    this.props = props;
  }

  public labFacts() {
    const { bgpConfiguration, bgpPeers, nodeStatuses, router, routerImage } = this.props;
    const spec = bgpConfiguration.spec;
    return {
      asNumber: spec.asNumber!,
      nodeToNodeMesh: spec.nodeToNodeMeshEnabled!,
      serviceClusterIPs: (spec.serviceClusterIPs ?? []).map(s => s.cidr!),
      peers: bgpPeers.map(p => ({
        name: p.resource.metadata.name!,
        family: FAMILY_NAME[p.family] as 'IPv4' | 'IPv6',
        peerIP: p.spec.peerIp!,
        asNumber: p.spec.asNumber!,
      })),
      nodeStatuses: nodeStatuses.map(s => ({ name: s.name, node: s.nodeName })),
      router: {
        name: router.hostname,
        image: routerImage,
        asNumber: router.asNumber,
        addresses: { ...router.addresses },
        network: { ...router.nodeNetwork },
        configDir: FrrRouterConfig.DIR,
        configFiles: Object.keys(router.files()).sort(),
      },
    };
  }
}


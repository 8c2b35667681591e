import { Construct } from 'constructs';
import { BgpPeer, BgpPeerSpec } from '../imports/bgppeer-crd.projectcalico.org';
import { checkAsNumber } from './as-number';
import { IpFamily, familyOf, parseHostAddress } from './cidr';
import { checkDnsLabel } from './validate';

/** Which address calico-node's BIRD opens the session from (BGPPeer `sourceAddress`). */
export type BgpSourceAddress = 'UseNodeIP' | 'None';

export interface CalicoBgpPeerProps {
  /** The object's name, e.g. `ipv6-lab-router-ipv6` (a DNS-1123 label). */
  readonly name: string;
  /** The peer's address, IPv4 or IPv6; nodes peer with it over that family only. */
  readonly peerIP: string;
  /** The peer's AS number; another than the cluster's makes the sessions eBGP. */
  readonly asNumber: number;
  /**
   * Advertise routes learned from other nodes (over the mesh) with their original next hop, the node
   * that holds the block, instead of this node's address. BIRD keeps it anyway when the peer shares the
   * nodes' link (RFC 4271 5.1.3), as kind's Docker network does; set, it is kept on any topology.
   * @default false (Calico's default)
   */
  readonly keepOriginalNextHop?: boolean;
  /**
   * `UseNodeIP`: BIRD opens the session from the node's address of the peer's family (the one
   * calico-node autodetects, here the Kubernetes InternalIP); `None`: from whatever the kernel picks.
   * @default "UseNodeIP" (Calico's default)
   */
  readonly sourceAddress?: BgpSourceAddress;
  /**
   * Calico selector of the nodes that peer. Left out, the peer is global: every node peers with it
   * (calicoctl node status calls it "global").
   * @default - every node (a global peer)
   */
  readonly nodeSelector?: string;
}

/**
 * A Calico `BGPPeer` (crd.projectcalico.org/v1): the nodes' BIRD opens one session each to `peerIP`,
 * on port 179, over that address's family.
 *
 * Nothing defaults objects of this API group: every field whose absence confd would fill is written
 * (`sourceAddress`, `keepOriginalNextHop`). Left out, because leaving them out is the setting: `node` and
 * `peerSelector` (a global peer with an address), the password (none), `maxRestartTime` (BIRD's 120 s),
 * `ttlSecurity` (off: BIRD then sends with `multihop`, TTL 64), `numAllowedLocalASNumbers` (0),
 * `reachableBy` (no static route to the peer) and `filters` (none).
 */
export class CalicoBgpPeer extends Construct {
  /** The address family of `peerIP`. */
  public readonly family: IpFamily;
  public readonly spec: BgpPeerSpec;
  public readonly resource: BgpPeer;

  constructor(scope: Construct, id: string, props: CalicoBgpPeerProps) {
    super(scope, id);
    checkDnsLabel('bgp peer name', props.name);
    const family = familyOf(props.peerIP);
    const address = parseHostAddress(props.peerIP, family);
    if (typeof address === 'string') {
      throw new Error(`invalid bgp peer ip: ${address}`);
    }
    checkAsNumber('bgp peer as number', props.asNumber);
    const sourceAddress = props.sourceAddress ?? 'UseNodeIP';
    if (sourceAddress !== 'UseNodeIP' && sourceAddress !== 'None') {
      throw new Error(`invalid bgp peer source address ${JSON.stringify(sourceAddress)}: must be "UseNodeIP" or "None"`);
    }
    if (props.nodeSelector !== undefined && props.nodeSelector.trim() === '') {
      throw new Error('invalid bgp peer node selector "": leave it out for a global peer, or give a selector such as "all()"');
    }
    this.family = family;
    this.spec = {
      peerIp: props.peerIP,
      asNumber: props.asNumber,
      sourceAddress,
      keepOriginalNextHop: props.keepOriginalNextHop ?? false,
      nodeSelector: props.nodeSelector,
    };
    this.resource = new BgpPeer(this, 'Resource', {
      metadata: { name: props.name },
      spec: this.spec,
    });
  }
}

import { Construct } from 'constructs';
import { IpPool, IpPoolSpec } from '../imports/ippool-crd.projectcalico.org';
import { BLOCK_SIZE_RANGE, DEFAULT_BLOCK_SIZE, ENCAPSULATION_MODES, EncapsulationMode, IpFamily, ParsedCidr, familyOf, overlaps, parseCidr } from './cidr';

/**
 * The link-local ranges Calico v3.28.5 refuses a pool to overlap (libcalico-go validateIPPoolSpec and
 * clientv3 ipPools.validateAndSetDefaults: "IP pool range overlaps with IPv4/IPv6 Link Local range").
 */
const CALICO_LINK_LOCAL: Record<IpFamily, string> = { ipv4: '169.254.0.0/16', ipv6: 'fe80::/10' };

/** A DNS-1123 subdomain, what Calico's validateObjectMeta requires of a resource name (at most 253 characters). */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What Calico IPAM may use a pool's addresses for. */
export type IpPoolUse = 'Workload' | 'Tunnel';

export interface CalicoIpPoolProps {
  /** The pool's name, e.g. `default-ipv4-ippool`. */
  readonly name: string;
  /** The pool's CIDR; its family decides the defaults and the allowed block sizes. */
  readonly cidr: string;
  /**
   * Prefix length of the blocks Calico hands out to nodes.
   * @default 26 for IPv4, 122 for IPv6 (Calico's own defaults)
   */
  readonly blockSize?: number;
  /**
   * VXLAN encapsulation for traffic to this pool.
   * @default "Always"
   */
  readonly vxlanMode?: EncapsulationMode;
  /**
   * IP-in-IP encapsulation; IPv4 only.
   * @default "Never"
   */
  readonly ipipMode?: EncapsulationMode;
  /**
   * Masquerade traffic from pods in this pool to destinations outside every pool.
   * @default true
   */
  readonly natOutgoing?: boolean;
  /**
   * Calico selector of the nodes that may take blocks from this pool.
   * @default "all()"
   */
  readonly nodeSelector?: string;
  /**
   * What the pool's addresses are for; VXLAN tunnel addresses come from pools that allow `Tunnel`.
   * @default ["Workload", "Tunnel"]
   */
  readonly allowedUses?: readonly IpPoolUse[];
  /**
   * Stop IPAM from assigning addresses from this pool.
   * @default false
   */
  readonly disabled?: boolean;
  /**
   * Keep this pool's routes out of BGP.
   * @default false
   */
  readonly disableBgpExport?: boolean;
}

/**
 * The generated `IpPool` maps `natOutgoing` onto the deprecated APIv1 key `nat-outgoing`: both CRD
 * properties camel-case to the same name and the later one wins. Calico reads `natOutgoing` and ignores
 * `nat-outgoing`, so the pool would silently run without NAT. This subclass emits the key Calico reads.
 */
class IpPoolResource extends IpPool {
  public override toJson(): any {
    const json = super.toJson();
    const { 'nat-outgoing': natOutgoing, ...rest } = json.spec as Record<string, unknown>;
    const spec: Record<string, unknown> = { ...rest, natOutgoing };
    return { ...json, spec: Object.fromEntries(Object.keys(spec).sort().map(k => [k, spec[k]])) };
  }
}

/**
 * A Calico `IPPool` (crd.projectcalico.org/v1) with every field Calico reads set explicitly.
 *
 * Objects of this API group are written straight to the datastore: no Calico API server defaults or
 * validates them. So this construct refuses what Calico v3.28.5's own IPPool validation refuses (the
 * name, CIDR syntax and masking, link-local overlap, block size, encapsulation, allowed uses; not the
 * nodeSelector's syntax) and emits a complete spec.
 */
export class CalicoIpPool extends Construct {
  /** The pool's name. */
  public readonly name: string;
  /** The address family of the pool's CIDR. */
  public readonly family: IpFamily;
  /** The spec as emitted (Calico field semantics, TypeScript names). */
  public readonly spec: IpPoolSpec;
  public readonly resource: IpPool;

  constructor(scope: Construct, id: string, props: CalicoIpPoolProps) {
    super(scope, id);
    if (!DNS1123_SUBDOMAIN.test(props.name) || props.name.length > 253) {
      throw new Error(`invalid ip pool name ${JSON.stringify(props.name)}: must be a dns-1123 subdomain of at most 253 characters`);
    }
    const family = familyOf(props.cidr);
    const cidr = parseCidr(props.cidr, family);
    if (typeof cidr === 'string') {
      throw new Error(`invalid ip pool cidr: ${cidr}`);
    }
    const linkLocal = parseCidr(CALICO_LINK_LOCAL[family], family) as ParsedCidr;
    if (overlaps(cidr, linkLocal)) {
      throw new Error(`invalid ip pool cidr ${JSON.stringify(props.cidr)}: overlaps the ${family} link-local range ${CALICO_LINK_LOCAL[family]}, which calico refuses in a pool`);
    }
    const [minBlock, maxBlock] = BLOCK_SIZE_RANGE[family];
    const blockSize = props.blockSize ?? DEFAULT_BLOCK_SIZE[family];
    // Calico checks the pool is at least one block only for enabled pools.
    const minAllowed = props.disabled ? minBlock : Math.max(minBlock, cidr.prefix);
    if (!Number.isInteger(blockSize) || blockSize < minAllowed || blockSize > maxBlock) {
      throw new Error(`invalid ip pool block size ${JSON.stringify(props.blockSize)} for ${props.cidr}: must be an integer from ${minAllowed} to ${maxBlock}`);
    }
    const vxlanMode = props.vxlanMode ?? 'Always';
    const ipipMode = props.ipipMode ?? 'Never';
    for (const [field, mode] of [['vxlanMode', vxlanMode], ['ipipMode', ipipMode]] as const) {
      if (!ENCAPSULATION_MODES.includes(mode)) {
        throw new Error(`invalid ip pool ${field} ${JSON.stringify(mode)}: must be one of ${ENCAPSULATION_MODES.join(', ')}`);
      }
    }
    if (family === 'ipv6' && ipipMode !== 'Never') {
      throw new Error(`invalid ip pool ipipMode ${JSON.stringify(ipipMode)} for ipv6 pool ${props.cidr}: must be "Never" (calico has no ip-in-ip for ipv6)`);
    }
    if (ipipMode !== 'Never' && vxlanMode !== 'Never') {
      throw new Error(`invalid ip pool encapsulation: ipipMode ${JSON.stringify(ipipMode)} and vxlanMode ${JSON.stringify(vxlanMode)} are both enabled; at most one may be`);
    }
    const allowedUses = props.allowedUses ?? ['Workload', 'Tunnel'];
    if (allowedUses.length === 0 || allowedUses.some(u => u !== 'Workload' && u !== 'Tunnel')) {
      throw new Error(`invalid ip pool allowedUses ${JSON.stringify(allowedUses)}: must be a non-empty list of "Workload", "Tunnel"`);
    }

    this.name = props.name;
    this.family = family;
    this.spec = {
      cidr: props.cidr,
      blockSize,
      vxlanMode,
      ipipMode,
      natOutgoing: props.natOutgoing ?? true,
      nodeSelector: props.nodeSelector ?? 'all()',
      allowedUses: [...allowedUses],
      disabled: props.disabled ?? false,
      disableBgpExport: props.disableBgpExport ?? false,
    };
    this.resource = new IpPoolResource(this, 'Resource', {
      metadata: { name: props.name },
      spec: this.spec,
    });
  }
}

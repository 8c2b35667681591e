import * as fs from 'fs';
import * as path from 'path';
import { Construct, IConstruct } from 'constructs';
import { checkAsNumber } from './as-number';
import { FAMILY_NAME, IP_FAMILIES, IpFamily, ParsedCidr, contains, familyOf, parseCidr, parseHostAddress } from './cidr';
import { DEFAULT_CLUSTER_AS_NUMBER, DEFAULT_CLUSTER_NAME, DEFAULT_POOLS, DEFAULT_ROUTER, DEFAULT_SERVICE_SUBNETS } from './defaults';
import { calicoHashRouterId, routerIdProblem } from './router-id';
import { checkDnsLabel } from './validate';

/** One value per address family. */
export interface PerFamily<T> {
  readonly ipv4: T;
  readonly ipv6: T;
}

/** A pool whose blocks the router accepts: its CIDR and the prefix length of the blocks Calico hands out. */
export interface FrrRouterPool {
  readonly cidr: string;
  readonly blockSize: number;
}

export interface FrrRouterConfigProps {
  /**
   * The router's name: FRR's hostname, and the name of its container.
   * @default "ipv6-lab-router"
   */
  readonly hostname?: string;
  /**
   * The router's AS number; it must differ from the cluster's (the sessions are eBGP).
   * @default 65000
   */
  readonly asNumber?: number;
  /**
   * The families the router speaks with the nodes: a peer group, a listen range and a session per node
   * for each. `["ipv6"]` for an IPv6-only cluster, whose nodes have no IPv4 address to peer from.
   * @default ["ipv4", "ipv6"]
   */
  readonly families?: readonly IpFamily[];
  /**
   * The router's addresses on the nodes' network, the ones the nodes' BGPPeers name: one per family of
   * `families` (others are ignored).
   * @default - 172.18.255.254 and fc00:f853:ccd:e793::fffe, the far end of kind's default network
   */
  readonly addresses?: Partial<PerFamily<string>>;
  /**
   * The network the nodes are on (kind's Docker network), one per family of `families`. The router
   * accepts a session from any address in it (`bgp listen range`): Docker, not the lab, picks the nodes'
   * addresses.
   * @default - kind's default network, 172.18.0.0/16 and fc00:f853:ccd:e793::/64
   */
  readonly nodeNetwork?: Partial<PerFamily<string>>;
  /**
   * bgpd's router ID, written out (`bgp router-id`): 32 bits as a dotted quad. bgpd would otherwise take
   * the highest IPv4 address of its interfaces, which an IPv6-only router lacks (or has only from Docker,
   * not from the lab). It must differ from every node's: FRR refuses an OPEN carrying its own ID.
   * @default - the router's IPv4 address; without IPv4, the ID calico-node would hash from the router's
   * hostname (`calicoHashRouterId`), as the IPv6-only nodes' own IDs are hashed from their names
   */
  readonly routerId?: string;
  /**
   * The cluster's AS number, the nodes' (BGPConfiguration asNumber).
   * @default 64512
   */
  readonly clusterAsNumber?: number;
  /**
   * The pools whose blocks the router accepts from the nodes: every prefix inside a pool that is a block
   * or longer (a block, or a /32 or /128 route Calico announces for an address borrowed from another
   * node's block).
   * @default - the lab's pools, 192.168.0.0/16 in /26 blocks and fd00:10:244::/48 in /122 blocks
   */
  readonly pools?: readonly FrrRouterPool[];
  /**
   * The Service ranges the nodes advertise (BGPConfiguration serviceClusterIPs): accepted as the range
   * itself and as host routes inside it.
   * @default - the lab's Service ranges, 10.96.0.0/16 and fd00:10:96::/112
   */
  readonly serviceClusterIPs?: readonly string[];
}

const MAX_PREFIX: Record<IpFamily, number> = { ipv4: 32, ipv6: 128 };

/** Zebra's route-map that gives the router's BGP routes its lab IPv4 address as their source. */
const SOURCE_ROUTE_MAP = 'ROUTER-SOURCE-IPV4';

/** FRR's keyword for a family, as in `ip prefix-list` / `ipv6 prefix-list` and `match ip` / `match ipv6`. */
const FRR_FAMILY: Record<IpFamily, string> = { ipv4: 'ip', ipv6: 'ipv6' };

/**
 * The configuration of the lab's external router, FRR (https://frrouting.org) in a container on the nodes'
 * network: `frr.conf`, `daemons` and `vtysh.conf`, the three files of FRR's /etc/frr.
 *
 * The router speaks eBGP with every Calico node, one session per node and family: IPv4 unicast only on
 * the IPv4 sessions, IPv6 unicast only on the IPv6 ones, as calico-node's two BIRDs (bird and bird6) each
 * carry one family. For an IPv6-only cluster (`families: ["ipv6"]`) only the IPv6 peer group and sessions
 * exist, and the router ID, which bgpd would take from an IPv4 address, is written out. It accepts sessions from the whole node network (`bgp listen range` into one peer
 * group per family) rather than naming node addresses that Docker picks at cluster creation.
 *
 * FRR follows RFC 8212 (`bgp ebgp-requires-policy`, on by default since FRR 7.4): an eBGP session with no
 * policy neither accepts nor sends a route. The configuration says so explicitly and gives each session
 * both policies: in, a prefix list that accepts the pools' blocks and the Service ranges and nothing else
 * (a node cannot inject a default route or someone else's network); out, a route map that denies
 * everything: the nodes learn nothing from the router, whose only job in the lab is to reach pods and
 * Services natively (the nodes keep their default route through Docker's bridge).
 *
 * IPv6 routes come with two next hops, the node's global and its link-local address; FRR would install the
 * link-local one. `set ipv6 next-hop prefer-global` makes the kernel route name the node's own IPv6
 * address, the one the lab shows and checks.
 *
 * Not a Kubernetes object: written to `frr/` under the output directory, where `kubectl apply -f dist`
 * (which does not recurse) never reads it.
 */
export class FrrRouterConfig extends Construct {
  /** Where the files land, relative to the synth output directory. */
  public static readonly DIR = 'frr';

  /** Every FrrRouterConfig under `root`, in construct order. */
  public static all(root: IConstruct): FrrRouterConfig[] {
    return root.node.findAll().filter((c): c is FrrRouterConfig => c instanceof FrrRouterConfig);
  }

  public readonly hostname: string;
  public readonly asNumber: number;
  public readonly clusterAsNumber: number;
  public readonly families: readonly IpFamily[];
  public readonly addresses: Partial<PerFamily<string>>;
  public readonly nodeNetwork: Partial<PerFamily<string>>;
  /** bgpd's router ID (`bgp router-id`). */
  public readonly routerId: string;
  /** FRR's integrated configuration. */
  public readonly frrConf: string;
  /** Which FRR daemons run, read by FRR's start script. */
  public readonly daemons: string;
  /** vtysh's own configuration: use the integrated frr.conf. */
  public readonly vtyshConf: string;

  constructor(scope: Construct, id: string, props: FrrRouterConfigProps = {}) {
    super(scope, id);
    this.hostname = props.hostname ?? `${DEFAULT_CLUSTER_NAME}-router`;
    this.asNumber = props.asNumber ?? DEFAULT_ROUTER.asNumber;
    this.clusterAsNumber = props.clusterAsNumber ?? DEFAULT_CLUSTER_AS_NUMBER;
    this.addresses = props.addresses ?? DEFAULT_ROUTER.peerIPs;
    this.nodeNetwork = props.nodeNetwork ?? DEFAULT_ROUTER.network;
    this.families = IP_FAMILIES.filter(f => (props.families ?? IP_FAMILIES).includes(f));
    const pools = props.pools ?? [DEFAULT_POOLS.ipv4, DEFAULT_POOLS.ipv6];
    const services = props.serviceClusterIPs ?? [DEFAULT_SERVICE_SUBNETS.ipv4, DEFAULT_SERVICE_SUBNETS.ipv6];

    checkDnsLabel('router hostname', this.hostname);
    checkAsNumber('router as number', this.asNumber);
    checkAsNumber('cluster as number', this.clusterAsNumber);
    if (this.asNumber === this.clusterAsNumber) {
      throw new Error(`invalid router as number ${this.asNumber}: must differ from the cluster's as number ${this.clusterAsNumber} (the router peers with the nodes over ebgp)`);
    }
    if (this.families.length === 0 || (props.families ?? []).some(f => !IP_FAMILIES.includes(f))) {
      throw new Error(`invalid router families ${JSON.stringify(props.families)}: must name "ipv4", "ipv6" or both`);
    }
    for (const family of this.families) {
      const network = cidrOf('router node network', this.nodeNetwork[family] ?? '', family);
      const address = parseHostAddress(this.addresses[family] ?? '', family);
      if (typeof address === 'string') {
        throw new Error(`invalid router ${family} address: ${address}`);
      }
      if (!contains(network, address)) {
        throw new Error(`invalid router ${family} address ${JSON.stringify(this.addresses[family])}: must lie in the node network ${this.nodeNetwork[family]}`);
      }
    }
    this.routerId = props.routerId ?? (this.families.includes('ipv4') ? this.addresses.ipv4! : calicoHashRouterId(this.hostname));
    const idProblem = routerIdProblem(this.routerId);
    if (idProblem) {
      throw new Error(`invalid router id ${JSON.stringify(this.routerId)}: it ${idProblem}`);
    }
    const accepted = acceptedPrefixes(pools, services);

    this.frrConf = this.renderFrrConf(accepted);
    this.daemons = [
      `# FRR daemons of the lab's router ${this.hostname}, generated by \`cdk8s synth\` (edit lab.config.yaml, not this file).`,
      '# FRR\'s start script reads it: zebra (the kernel routing table) and staticd always run; bgpd is the',
      '# one routing daemon the router needs. The integrated frr.conf configures them all (vtysh -b).',
      'bgpd=yes',
      'vtysh_enable=yes',
      'frr_profile="traditional"',
      'zebra_options="  -A 127.0.0.1 -s 90000000"',
      'bgpd_options="   -A 127.0.0.1"',
      'staticd_options="-A 127.0.0.1"',
      '',
    ].join('\n');
    this.vtyshConf = 'service integrated-vtysh-config\n';
  }

  /** The files as written, by name. */
  public files(): Record<string, string> {
    return { 'daemons': this.daemons, 'frr.conf': this.frrConf, 'vtysh.conf': this.vtyshConf };
  }

  /** Writes the files under `outdir`/frr/; returns their paths. */
  public writeTo(outdir: string): string[] {
    const dir = path.join(outdir, FrrRouterConfig.DIR);
    fs.mkdirSync(dir, { recursive: true });
    return Object.entries(this.files()).map(([name, text]) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    });
  }

  private renderFrrConf(accepted: PerFamily<string[]>): string {
    const group = (family: IpFamily) => `CALICO-${family.toUpperCase()}`;
    const lines: string[] = [
      `! FRR configuration of the lab's router ${this.hostname}, generated by \`cdk8s synth\`; edit lab.config.yaml, not this file.`,
      `! eBGP with every Calico node: AS ${this.asNumber} here, AS ${this.clusterAsNumber} the cluster. One session per node and family,`,
      '! accepted from the node network; each carries its own family only. RFC 8212 (bgp ebgp-requires-policy):',
      '! every session has an explicit policy in (the pools\' blocks and the Service ranges) and out (nothing).',
      ...(this.families.includes('ipv4')
        ? [`! Routes to the pods leave from the router's lab address ${this.addresses.ipv4} (zebra's set src), not Docker's.`]
        : []),
      'frr defaults traditional',
      `hostname ${this.hostname}`,
      'service integrated-vtysh-config',
      '!',
    ];
    for (const family of this.families) {
      accepted[family].forEach((entry, i) => {
        lines.push(`${FRR_FAMILY[family]} prefix-list ${group(family)}-IN seq ${(i + 1) * 5} permit ${entry}`);
      });
      lines.push('!');
    }
    for (const family of this.families) {
      lines.push(
        `route-map ${group(family)}-IN permit 10`,
        ` match ${FRR_FAMILY[family]} address prefix-list ${group(family)}-IN`,
        ...(family === 'ipv6' ? [' set ipv6 next-hop prefer-global'] : []),
        'exit',
        `route-map ${group(family)}-IN deny 20`,
        'exit',
        '!',
      );
    }
    lines.push(
      'route-map ANNOUNCE-NOTHING deny 10',
      'exit',
      '!',
      // Docker gives the container an IPv4 address of its own choosing (kind's network has no IPv4 subnet
      // a container may pick from); the lab's address is added beside it. Without a source, the kernel
      // would send the router's own traffic to pods from Docker's address. IPv6 has no such second address.
      ...(this.families.includes('ipv4') ? [
        `route-map ${SOURCE_ROUTE_MAP} permit 10`,
        ` set src ${this.addresses.ipv4}`,
        'exit',
        `ip protocol bgp route-map ${SOURCE_ROUTE_MAP}`,
        '!',
      ] : [
        '! IPv6 only: no IPv4 address to take the router ID from, so it is written out (32 bits, dotted). The nodes',
        '! hash theirs from their names (calico-node CALICO_ROUTER_ID=hash); this one is hashed from the hostname.',
      ]),
      `router bgp ${this.asNumber}`,
      ` bgp router-id ${this.routerId}`,
      ' no bgp default ipv4-unicast',
      ' bgp ebgp-requires-policy',
      ' bgp log-neighbor-changes',
    );
    for (const family of this.families) {
      lines.push(
        ` neighbor ${group(family)} peer-group`,
        ` neighbor ${group(family)} remote-as ${this.clusterAsNumber}`,
        ` neighbor ${group(family)} description Calico nodes over ${FAMILY_NAME[family]}`,
      );
    }
    for (const family of this.families) {
      lines.push(` bgp listen range ${this.nodeNetwork[family]} peer-group ${group(family)}`);
    }
    for (const family of this.families) {
      lines.push(
        ' !',
        ` address-family ${family} unicast`,
        `  neighbor ${group(family)} activate`,
        `  neighbor ${group(family)} route-map ${group(family)}-IN in`,
        `  neighbor ${group(family)} route-map ANNOUNCE-NOTHING out`,
        ' exit-address-family',
      );
    }
    lines.push('exit', '!', '');
    return lines.join('\n');
  }
}

function cidrOf(what: string, value: string, family: IpFamily): ParsedCidr {
  const parsed = parseCidr(value, family);
  if (typeof parsed === 'string') {
    throw new Error(`invalid ${what}: ${parsed}`);
  }
  return parsed;
}

/** A prefix-list entry matching `cidr`'s prefixes from length `from` to the family's longest. */
function prefixesFrom(cidr: ParsedCidr, text: string, from: number): string {
  if (from === MAX_PREFIX[cidr.family] && cidr.prefix === from) return text;
  return from === cidr.prefix ? `${text} le ${MAX_PREFIX[cidr.family]}` : `${text} ge ${from}`;
}

/** The prefix-list entries of each family: pools from their block size on, Service ranges exact and as host routes. */
function acceptedPrefixes(pools: readonly FrrRouterPool[], services: readonly string[]): PerFamily<string[]> {
  const accepted: { ipv4: string[]; ipv6: string[] } = { ipv4: [], ipv6: [] };
  for (const pool of pools) {
    const cidr = cidrOf('router pool cidr', pool.cidr, familyOf(pool.cidr));
    const max = MAX_PREFIX[cidr.family];
    if (!Number.isInteger(pool.blockSize) || pool.blockSize < cidr.prefix || pool.blockSize > max) {
      throw new Error(`invalid router pool block size ${JSON.stringify(pool.blockSize)} for ${pool.cidr}: must be an integer from ${cidr.prefix} to ${max}`);
    }
    accepted[cidr.family].push(prefixesFrom(cidr, pool.cidr, pool.blockSize));
  }
  for (const service of services) {
    const cidr = cidrOf('router service cluster ip range', service, familyOf(service));
    const max = MAX_PREFIX[cidr.family];
    accepted[cidr.family].push(service);
    if (cidr.prefix < max) {
      accepted[cidr.family].push(`${service} ge ${max}`);
    }
  }
  return accepted;
}

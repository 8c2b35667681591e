/**
 * Special-purpose address ranges, and which of them a pod pool or a Service range may use.
 *
 * The ranges and their class names are ipaddr.js's: the tables its `range()` classifies addresses by
 * (`IPv4.prototype.SpecialRanges`, `IPv6.prototype.SpecialRanges`), which follow the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (https://www.iana.org/assignments/iana-ipv4-special-registry,
 * https://www.iana.org/assignments/iana-ipv6-special-registry) and RFC 4291. ipaddr.js lacks one class
 * (IPv4-compatible IPv6, ::/96), added below. What this module adds is the verdict per class, and the
 * overlap math for a CIDR that is wider than a special range (a /9 that swallows fe80::/10).
 *
 * Refused: what is not forwardable or not a unicast host address (the registries' Forwardable and
 * Destination columns), what the kernel or Calico treats specially, and the translation prefixes the
 * lab's NAT64 variant routes. Allowed: forwardable unicast, documentation ranges included (nothing in a
 * kind cluster filters them). docs/configuration.md explains each verdict.
 */
import * as ipaddr from 'ipaddr.js';
import { IpFamily, ParsedCidr } from './cidr';

/** A special-purpose range with the lab's verdict on it. */
export interface SpecialRange {
  /** Canonical CIDR, e.g. `fe80::/10`. */
  readonly cidr: string;
  readonly family: IpFamily;
  /** ipaddr.js's name for the class (`range()`'s answer), or this module's for a class ipaddr.js lacks. */
  readonly ipaddrClass: string;
  /** What the range is, with the RFC that assigns it. */
  readonly name: string;
  /** Whether a pod pool or a Service range may overlap it. */
  readonly usable: boolean;
  /** Why it can't be used, or why it is fine for the lab. */
  readonly why: string;
  /** Network address and prefix length. */
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

interface Verdict {
  readonly name: string;
  readonly usable: boolean;
  readonly why: string;
}

const refuse = (name: string, why: string): Verdict => ({ name, usable: false, why });
const allow = (name: string, why: string): Verdict => ({ name, usable: true, why });

const DOCUMENTATION_WHY = 'the registry marks it not forwardable between networks, but nothing inside a kind cluster filters it, and the kubeadm docs use 2001:db8:42::/56 for pods';
const IDENTIFIER_WHY = 'host identifiers, not locators: not routable at the IP layer';
const IETF_PROTOCOL_WHY = 'not forwardable and not usable unless by a more specific assignment';

/**
 * The verdict for each ipaddr.js class, or for each of its ranges where one class mixes several
 * (ipaddr.js's `reserved` holds documentation next to IETF protocol assignments).
 */
const VERDICTS: Record<IpFamily, Record<string, Verdict | Record<string, Verdict>>> = {
  ipv4: {
    unspecified: refuse('"this network" (RFC 1122)', 'a source address for a host that has none yet, never a destination: nothing can reach a pod there'),
    broadcast: refuse('limited broadcast (RFC 919)', 'the broadcast address of every link, not a host'),
    multicast: refuse('multicast (RFC 5771)', 'group addresses, not a unicast address a pod or a Service can own'),
    linkLocal: refuse('link-local (RFC 3927)', 'never routed off its link, and every Calico pod\'s gateway is 169.254.1.1: Calico refuses pools that overlap it'),
    loopback: refuse('loopback (RFC 1122)', 'the kernel keeps these addresses inside each host: packets to them never leave a node'),
    carrierGradeNat: allow('shared address space (RFC 6598)', 'forwardable unicast, clashing only with a VPN on the same machine that uses it, such as Tailscale'),
    private: allow('private-use (RFC 1918)', 'forwardable unicast, meant for networks like this one'),
    reserved: {
      '192.0.0.0/24': refuse('IETF protocol assignments (RFC 6890)', `${IETF_PROTOCOL_WHY}, and it holds 192.0.0.170-171, the addresses DNS64 prefix discovery looks up`),
      '192.0.2.0/24': allow('documentation TEST-NET-1 (RFC 5737)', DOCUMENTATION_WHY),
      '192.88.99.0/24': allow('former 6to4 relay anycast (RFC 7526)', 'deprecated, forwardable unicast'),
      '198.18.0.0/15': allow('benchmarking (RFC 2544)', 'forwardable unicast, meant for test networks'),
      '198.51.100.0/24': allow('documentation TEST-NET-2 (RFC 5737)', DOCUMENTATION_WHY),
      '203.0.113.0/24': allow('documentation TEST-NET-3 (RFC 5737)', DOCUMENTATION_WHY),
      '240.0.0.0/4': refuse('reserved, formerly class E (RFC 1112)', 'reserved for future use and not forwardable: many network stacks and firewalls drop it'),
    },
    as112: allow('AS112 DNS anycast (RFC 7534, RFC 7535)', 'forwardable unicast'),
    amt: allow('AMT relay anycast (RFC 7450)', 'forwardable unicast'),
  },
  ipv6: {
    unspecified: refuse('unspecified address (RFC 4291)', 'means "no address": never a destination'),
    linkLocal: refuse('link-local (RFC 4291)', 'never routed off its link, and every Calico pod\'s gateway is a link-local address: Calico refuses pools that overlap it'),
    multicast: refuse('multicast (RFC 4291)', 'group addresses, not a unicast address a pod or a Service can own'),
    loopback: refuse('loopback (RFC 4291)', 'the kernel keeps this address inside each host: packets to it never leave a node'),
    uniqueLocal: allow('unique local (RFC 4193)', 'forwardable unicast, meant for networks like this one: the lab\'s default'),
    ipv4Mapped: refuse('IPv4-mapped (RFC 4291)', 'stands for an IPv4 address in a host\'s socket API; never an IPv6 address on the wire'),
    deprecatedSiteLocal: refuse('deprecated site-local (RFC 3879)', 'deprecated, and Linux still gives these addresses site scope'),
    discard: refuse('discard-only (RFC 6666)', 'exists to be routed into a black hole'),
    rfc6145: refuse('IPv4-translated (RFC 6145)', 'stands for IPv4 hosts behind a stateless IPv4/IPv6 translator'),
    rfc6052: {
      '64:ff9b::/96': refuse('NAT64 well-known prefix (RFC 6052)', 'names IPv4 hosts behind a NAT64 translator: DNS64 synthesizes addresses in it and routes send it to the translator, as the lab\'s IPv6-only variant does'),
      '64:ff9b:1::/48': refuse('local-use IPv4/IPv6 translation (RFC 8215)', 'reserved for NAT64 translator prefixes: routes send it to a translator'),
    },
    '6to4': allow('6to4 (RFC 3056)', 'forwardable unicast that only a 6to4 tunnel treats specially, and the lab has none'),
    teredo: allow('Teredo (RFC 4380)', 'forwardable unicast that only a Teredo client treats specially, and the lab has none'),
    benchmarking: allow('benchmarking (RFC 5180)', 'forwardable unicast, meant for test networks'),
    amt: allow('AMT relay anycast (RFC 7450)', 'forwardable unicast'),
    as112v6: allow('AS112 DNS anycast (RFC 7534, RFC 7535)', 'forwardable unicast'),
    deprecatedOrchid: refuse('deprecated ORCHID (RFC 4843)', IDENTIFIER_WHY),
    orchid2: refuse('ORCHIDv2 (RFC 7343)', IDENTIFIER_WHY),
    droneRemoteIdProtocolEntityTags: refuse('drone remote ID entity tags (RFC 9374)', IDENTIFIER_WHY),
    segmentRouting: allow('SRv6 SIDs (RFC 9602)', 'forwardable unicast that only an SRv6 domain treats specially, and the lab is none'),
    reserved: {
      '2001::/23': refuse('IETF protocol assignments (RFC 2928)', `${IETF_PROTOCOL_WHY}, as Teredo, benchmarking, AMT and AS112 inside it are`),
      '2001:db8::/32': allow('documentation (RFC 3849)', DOCUMENTATION_WHY),
      '3fff::/20': allow('documentation (RFC 9637)', DOCUMENTATION_WHY),
    },
  },
};

/** Classes ipaddr.js's tables lack. */
const SUPPLEMENT: ReadonlyArray<{ family: IpFamily; cidr: string; ipaddrClass: string; verdict: Verdict }> = [
  {
    family: 'ipv6',
    cidr: '::/96',
    ipaddrClass: 'ipv4Compatible',
    verdict: refuse('IPv4-compatible (RFC 4291, deprecated)', 'deprecated IPv4-embedding form that Linux hands to its sit tunnel driver'),
  },
];

type RangeTable = Record<string, [ipaddr.IPv4 | ipaddr.IPv6, number] | Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>>;

/** ipaddr.js's own range tables, as its `range()` uses them (one range, or a list of them, per class). */
export function ipaddrRangeTables(): Record<IpFamily, RangeTable> {
  return {
    ipv4: (ipaddr.IPv4.prototype as unknown as { SpecialRanges: RangeTable }).SpecialRanges,
    ipv6: (ipaddr.IPv6.prototype as unknown as { SpecialRanges: RangeTable }).SpecialRanges,
  };
}

function rangesOf(entry: RangeTable[string]): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
  return Array.isArray(entry[0]) ? entry as Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> : [entry as [ipaddr.IPv4 | ipaddr.IPv6, number]];
}

function verdictFor(family: IpFamily, ipaddrClass: string, cidr: string): Verdict | undefined {
  const v = VERDICTS[family][ipaddrClass];
  if (v === undefined) return undefined;
  return 'usable' in v ? v as Verdict : (v as Record<string, Verdict>)[cidr];
}

let table: { ranges: SpecialRange[]; unjudged: string[] } | undefined;

function buildTable(): { ranges: SpecialRange[]; unjudged: string[] } {
  const ranges: SpecialRange[] = [];
  const unjudged: string[] = [];
  const tables = ipaddrRangeTables();
  for (const family of ['ipv4', 'ipv6'] as const) {
    for (const [ipaddrClass, entry] of Object.entries(tables[family])) {
      for (const [address, prefix] of rangesOf(entry)) {
        const cidr = `${address.toString()}/${prefix}`;
        const verdict = verdictFor(family, ipaddrClass, cidr);
        if (!verdict) {
          unjudged.push(`${ipaddrClass} ${cidr}`);
          continue;
        }
        ranges.push({ cidr, family, ipaddrClass, address, prefix, ...verdict });
      }
    }
  }
  for (const s of SUPPLEMENT) {
    const [address, prefix] = ipaddr.parseCIDR(s.cidr);
    ranges.push({ cidr: s.cidr, family: s.family, ipaddrClass: s.ipaddrClass, address, prefix, ...s.verdict });
  }
  return { ranges, unjudged };
}

/** Every special-purpose range with its verdict, ipaddr.js's order (IPv4, then IPv6, then the supplement). */
export function specialRanges(): readonly SpecialRange[] {
  table ??= buildTable();
  return table.ranges;
}

/** Ranges in ipaddr.js's tables this module has no verdict for (a newer ipaddr.js); a test keeps it empty. */
export function unjudgedRanges(): readonly string[] {
  table ??= buildTable();
  return table.unjudged;
}

interface Span {
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

const bitsOf = (a: ipaddr.IPv4 | ipaddr.IPv6) => (a.kind() === 'ipv4' ? 32 : 128);
const size = (s: Span) => 1n << BigInt(bitsOf(s.address) - s.prefix);

/** Whether `inner` lies inside `outer` (equal counts). */
function within(inner: Span, outer: Span): boolean {
  return inner.address.kind() === outer.address.kind() && inner.prefix >= outer.prefix &&
    (inner.address as ipaddr.IPv4).match(outer.address as ipaddr.IPv4, outer.prefix);
}

/**
 * The refused special ranges that hold at least one address of `cidr`, each once.
 *
 * CIDRs overlap only by nesting, and the registries nest (Teredo inside 2001::/23). An address belongs
 * to the innermost range that holds it, as `range()` classifies it. So: the addresses of `cidr` that no
 * special range strictly inside it covers take the class of the innermost range around `cidr` (refused
 * if that range is), and each range strictly inside `cidr` is judged the same way in turn.
 */
export function refusedRangesOverlapping(cidr: ParsedCidr): SpecialRange[] {
  const all = specialRanges().filter(r => r.family === cidr.family);
  const hits: SpecialRange[] = [];
  const visit = (span: Span, around: SpecialRange | undefined) => {
    const inside = all.filter(r => r.prefix > span.prefix && within(r, span));
    const maximal = inside.filter(r => !inside.some(o => o !== r && o.prefix < r.prefix && within(r, o)));
    const covered = maximal.reduce((sum, r) => sum + size(r), 0n);
    if (around && !around.usable && covered < size(span) && !hits.includes(around)) {
      hits.push(around);
    }
    for (const r of maximal) visit(r, r);
  };
  const containing = all.filter(r => within(cidr, r)).sort((a, b) => b.prefix - a.prefix);
  visit(cidr, containing[0]);
  // A refused range inside another one found (::1/128 inside ::/96) adds nothing to say.
  return hits
    .filter(h => !hits.some(o => o !== h && o.prefix < h.prefix && within(h, o)))
    .sort((a, b) => all.indexOf(a) - all.indexOf(b));
}

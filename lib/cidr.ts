/**
 * Address families, CIDR parsing and Calico's encapsulation modes: what the constructs and the lab
 * configuration both check, with no dependency on either.
 */
import * as ipaddr from 'ipaddr.js';
import { DEFAULT_ROUTER } from './defaults';

export type IpFamily = 'ipv4' | 'ipv6';
export const IP_FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];
export const FAMILY_NAME: Record<IpFamily, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

/** A family as Kubernetes spells it (Service `ipFamilies`) and as the lab configuration's `ipFamilies` does. */
export type K8sIpFamily = 'IPv4' | 'IPv6';

/**
 * The family sets the lab offers: dual-stack, IPv4 first as in the lab's README, or IPv6-only. An
 * IPv4-only cluster is not one of them: it has no IPv6 to teach.
 */
export type LabIpFamilies = readonly ['IPv4', 'IPv6'] | readonly ['IPv6'];
export const DUAL_STACK: readonly ['IPv4', 'IPv6'] = ['IPv4', 'IPv6'];
export const IPV6_ONLY: readonly ['IPv6'] = ['IPv6'];

/** Whether a family set is the IPv6-only one. */
export function isIpv6Only(families: LabIpFamilies): families is readonly ['IPv6'] {
  return families.length === 1 && families[0] === 'IPv6';
}

/** The lower-case families of a family set, in its order (`['ipv4', 'ipv6']` or `['ipv6']`). */
export function familiesOf(families: LabIpFamilies): IpFamily[] {
  return families.map(f => (f === 'IPv4' ? 'ipv4' : 'ipv6'));
}

/**
 * Checks a family set as the constructs receive it; throws a plain Error naming what is allowed. The lab
 * configuration gives its own, more detailed messages (lib/lab-config.ts).
 */
export function checkLabIpFamilies(what: string, families: readonly string[]): LabIpFamilies {
  const same = (a: readonly string[]) => a.length === families.length && a.every((f, i) => f === families[i]);
  if (same(DUAL_STACK)) return DUAL_STACK;
  if (same(IPV6_ONLY)) return IPV6_ONLY;
  throw new Error(`invalid ${what} ${JSON.stringify(families)}: must be ["IPv4","IPv6"] (dual-stack) or ["IPv6"] (ipv6-only)`);
}

/** Calico's encapsulation modes, as IPPool `ipipMode` / `vxlanMode` spell them. */
export type EncapsulationMode = 'Never' | 'Always' | 'CrossSubnet';
export const ENCAPSULATION_MODES: readonly EncapsulationMode[] = ['Never', 'Always', 'CrossSubnet'];

/** Block sizes Calico IPAM accepts for each family. */
export const BLOCK_SIZE_RANGE: Record<IpFamily, readonly [number, number]> = { ipv4: [20, 32], ipv6: [116, 128] };

/** Calico's own default block sizes. */
export const DEFAULT_BLOCK_SIZE: Record<IpFamily, number> = { ipv4: 26, ipv6: 122 };

/** The widest service CIDR kube-apiserver 1.28 accepts: /12 for IPv4, /108 (20 bits of host space) for IPv6. */
export const WIDEST_SERVICE_PREFIX: Record<IpFamily, number> = { ipv4: 12, ipv6: 108 };

/** A CIDR parsed and checked: family, canonical network address, prefix length. */
export interface ParsedCidr {
  readonly family: IpFamily;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

/** The family a CIDR claims by its spelling: IPv6 addresses contain a colon. */
export function familyOf(cidr: string): IpFamily {
  return cidr.includes(':') ? 'ipv6' : 'ipv4';
}

/**
 * Parses `value` as a CIDR of the expected family. Returns the parsed CIDR, or the reason it is not
 * acceptable: malformed, of the other family, or with host bits set (Calico and Kubernetes want a network address).
 */
export function parseCidr(value: string, family: IpFamily): ParsedCidr | string {
  const example = family === 'ipv4' ? '192.168.0.0/16' : 'fd00:10:244::/48';
  const expected = `an ${FAMILY_NAME[family]} CIDR such as ${example}`;
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    // ipaddr.js also accepts legacy IPv4 forms (hex, octal, one number); a CIDR must be four decimal parts.
    const [addressPart] = value.split('/');
    if (!value.includes('/') || (!addressPart.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(addressPart))) {
      throw new Error('not a CIDR');
    }
    parsed = ipaddr.parseCIDR(value);
  } catch {
    return `got ${JSON.stringify(value)}, which is not a valid CIDR; allowed: ${expected}`;
  }
  const [address, prefix] = parsed;
  const actual: IpFamily = address.kind() === 'ipv4' ? 'ipv4' : 'ipv6';
  if (actual !== family) {
    return `got ${JSON.stringify(value)}, an ${FAMILY_NAME[actual]} CIDR in the ${family} slot; allowed: ${expected}`;
  }
  const network = family === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(value)
    : ipaddr.IPv6.networkAddressFromCIDR(value);
  if (network.toString() !== address.toString()) {
    return `got ${JSON.stringify(value)}, which has host bits set; allowed: the network address ${network.toString()}/${prefix}`;
  }
  return { family, address, prefix };
}

/** Whether two parsed CIDRs share any address (never across families). */
export function overlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family) return false;
  return (a.address as ipaddr.IPv4).match(b.address as ipaddr.IPv4, b.prefix)
    || (b.address as ipaddr.IPv4).match(a.address as ipaddr.IPv4, a.prefix);
}

/** A single host address parsed and checked: family and canonical form. */
export interface ParsedAddress {
  readonly family: IpFamily;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  /** RFC 5952 form for IPv6 (lower case, `::` compression), dotted quad for IPv4. */
  readonly canonical: string;
}

/**
 * Special-purpose ranges (as ipaddr.js names them) where no host on a Docker network can live, with
 * the words a problem message uses. Private, unique-local and global unicast addresses pass.
 */
const NOT_A_HOST: Record<string, string> = {
  unspecified: 'the unspecified address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  ipv4Mapped: 'an IPv4-mapped IPv6 address',
  rfc6145: 'an IPv4-translated address',
  rfc6052: 'a NAT64 address (64:ff9b::/96)',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
  discard: 'a discard-only address',
};

/**
 * Parses `value` as one host address of the expected family (no prefix length). Returns the parsed
 * address, or the reason it is not acceptable: a CIDR, malformed, of the other family, or special-purpose.
 * `example` is the address the message suggests.
 */
export function parseHostAddress(value: string, family: IpFamily, example: string = DEFAULT_ROUTER.peerIPs[family]): ParsedAddress | string {
  const expected = `an ${FAMILY_NAME[family]} address such as ${example}`;
  if (typeof value !== 'string' || value.includes('/')) {
    return `got ${JSON.stringify(value)}, which is not a single address; allowed: ${expected} (no prefix length)`;
  }
  const valid = family === 'ipv4' ? ipaddr.IPv4.isValidFourPartDecimal(value) : !value.includes('%') && ipaddr.IPv6.isValid(value);
  if (!valid) {
    const other: IpFamily = family === 'ipv4' ? 'ipv6' : 'ipv4';
    const isOther = other === 'ipv4' ? ipaddr.IPv4.isValidFourPartDecimal(value) : ipaddr.IPv6.isValid(value);
    return isOther
      ? `got ${JSON.stringify(value)}, an ${FAMILY_NAME[other]} address in the ${family} slot; allowed: ${expected}`
      : `got ${JSON.stringify(value)}, which is not an address; allowed: ${expected}`;
  }
  const address = ipaddr.parse(value);
  const special = NOT_A_HOST[address.range()];
  if (special) {
    return `got ${JSON.stringify(value)}, ${special}; allowed: ${expected}`;
  }
  return { family, address, canonical: address.toString() };
}

/** Whether a parsed address lies inside a parsed CIDR of the same family. */
export function contains(cidr: ParsedCidr, address: ParsedAddress): boolean {
  return cidr.family === address.family && (address.address as ipaddr.IPv4).match(cidr.address as ipaddr.IPv4, cidr.prefix);
}

/** The one-address CIDR of `address`: /32 for IPv4, /128 for IPv6, as a NetworkPolicy ipBlock names one host. */
export function hostCidr(address: ParsedAddress): string {
  return `${address.canonical}/${address.family === 'ipv4' ? 32 : 128}`;
}

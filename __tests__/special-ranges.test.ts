import * as ipaddr from 'ipaddr.js';
import { familyOf, parseCidr, ParsedCidr } from '../lib/cidr';
import { ipaddrRangeTables, refusedRangesOverlapping, specialRanges, unjudgedRanges } from '../lib/special-ranges';

const parse = (cidr: string) => {
  const parsed = parseCidr(cidr, familyOf(cidr));
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed as ParsedCidr;
};
const refused = (cidr: string) => refusedRangesOverlapping(parse(cidr)).map(r => r.cidr);

describe('special-purpose ranges', () => {
  test('every range of ipaddr.js\'s tables has a verdict (a newer ipaddr.js must be judged, not passed)', () => {
    expect(unjudgedRanges()).toEqual([]);
    const fromIpaddr = Object.values(ipaddrRangeTables()).flatMap(t => Object.values(t))
      .flatMap(e => (Array.isArray(e[0]) ? e as unknown[] : [e])).length;
    // ipaddr.js 2.5.0: 19 IPv4 and 24 IPv6 ranges; plus ::/96, which ipaddr.js lacks.
    expect(fromIpaddr).toBe(43);
    expect(specialRanges()).toHaveLength(fromIpaddr + 1);
  });

  // The table is ipaddr.js's own: range() names each range's network address by the class the verdict is
  // for, except where ipaddr.js lists a narrower range at the same address first.
  test('each range carries the class ipaddr.js\'s range() gives its addresses', () => {
    const named = specialRanges().filter(r => r.ipaddrClass !== 'ipv4Compatible')
      .map(r => `${r.cidr} ${r.ipaddrClass}`)
      .filter(line => !line.startsWith('2001::/23 '));
    expect(specialRanges().filter(r => r.ipaddrClass !== 'ipv4Compatible')
      .map(r => `${r.cidr} ${r.address.range()}`)
      .filter(line => !line.startsWith('2001::/23 '))).toEqual(named);
    // 2001::/23 starts where Teredo does.
    expect(ipaddr.parse('2001::').range()).toBe('teredo');
    expect(ipaddr.parse('2001:5::').range()).toBe('reserved');
  });

  // One row per class: a CIDR inside the range, and a wider one that swallows it (with what that one is
  // refused for: a refused range inside another refused range is named by the outer one).
  test.each<[string, string, string, string, string]>([
    ['IPv4 unspecified ("this network")', '0.0.0.0/16', '0.0.0.0/8', '0.0.0.0/6', '0.0.0.0/8'],
    ['IPv4 limited broadcast', '255.255.255.255/32', '255.255.255.255/32', '255.255.255.252/30', '240.0.0.0/4'],
    ['IPv4 multicast', '239.1.0.0/16', '224.0.0.0/4', '192.0.0.0/2', '224.0.0.0/4'],
    ['IPv4 link-local', '169.254.10.0/24', '169.254.0.0/16', '169.252.0.0/14', '169.254.0.0/16'],
    ['IPv4 loopback', '127.10.0.0/16', '127.0.0.0/8', '124.0.0.0/6', '127.0.0.0/8'],
    ['IPv4 IETF protocol assignments', '192.0.0.0/28', '192.0.0.0/24', '192.0.0.0/22', '192.0.0.0/24'],
    ['IPv4 reserved (class E)', '250.0.0.0/16', '240.0.0.0/4', '224.0.0.0/3', '240.0.0.0/4'],
    ['IPv6 unspecified', '::/128', '::/128', '::/120', '::/96'],
    ['IPv6 loopback', '::1/128', '::1/128', '::/127', '::1/128'],
    ['IPv6 link-local', 'fe80::/64', 'fe80::/10', 'fe80::/9', 'fe80::/10'],
    ['IPv6 multicast', 'ff02::/16', 'ff00::/8', 'fe00::/7', 'ff00::/8'],
    ['IPv6 IPv4-mapped', '::ffff:a00:0/120', '::ffff:0:0/96', '::fffc:0:0/94', '::ffff:0:0/96'],
    ['IPv6 IPv4-compatible', '::a00:0/104', '::/96', '::/94', '::/96'],
    ['IPv6 IPv4-translated', '::ffff:0:a00:0/104', '::ffff:0:0:0/96', '::ffff:0:0:0/94', '::ffff:0:0:0/96'],
    ['IPv6 deprecated site-local', 'fec0:1::/48', 'fec0::/10', 'fe80::/9', 'fec0::/10'],
    ['IPv6 discard-only', '100::/72', '100::/64', '100::/62', '100::/64'],
    ['IPv6 NAT64 well-known prefix', '64:ff9b::/112', '64:ff9b::/96', '64:ff9b::/94', '64:ff9b::/96'],
    ['IPv6 local-use translation', '64:ff9b:1:2::/64', '64:ff9b:1::/48', '64:ff9b::/46', '64:ff9b:1::/48'],
    ['IPv6 IETF protocol assignments', '2001:5::/48', '2001::/23', '2000::/15', '2001::/23'],
    ['IPv6 deprecated ORCHID', '2001:10::/32', '2001:10::/28', '2001::/26', '2001::/23'],
    ['IPv6 ORCHIDv2', '2001:20::/32', '2001:20::/28', '2001:20::/27', '2001:20::/28'],
    ['IPv6 drone remote ID tags', '2001:30::/32', '2001:30::/28', '2001:20::/27', '2001:30::/28'],
  ])('refuses %s: inside and overlapping', (_what, inside, range, wider, widerRefusedFor) => {
    expect(refused(inside)).toEqual([range]);
    expect(refused(wider)).toContain(widerRefusedFor);
  });

  test.each<[string, string]>([
    ['IPv4 private-use', '10.244.0.0/16'],
    ['IPv4 private-use, the lab\'s default pool', '192.168.0.0/16'],
    ['IPv4 shared address space (CGNAT)', '100.64.0.0/10'],
    ['IPv4 documentation TEST-NET-1', '192.0.2.0/24'],
    ['IPv4 documentation TEST-NET-3', '203.0.113.0/24'],
    ['IPv4 benchmarking', '198.18.0.0/15'],
    ['IPv4 former 6to4 relay anycast', '192.88.99.0/24'],
    ['IPv4 public unicast', '8.8.0.0/16'],
    ['IPv4 next to link-local', '169.255.0.0/16'],
    ['IPv6 unique local, the lab\'s default pool', 'fd00:10:244::/48'],
    ['IPv6 unique local, all of it', 'fc00::/7'],
    ['IPv6 documentation (kubeadm\'s dual-stack example)', '2001:db8:42::/56'],
    ['IPv6 documentation (RFC 9637)', '3fff::/20'],
    ['IPv6 6to4', '2002:a00::/24'],
    ['IPv6 Teredo, inside IETF protocol assignments', '2001::/32'],
    ['IPv6 benchmarking, inside IETF protocol assignments', '2001:2::/48'],
    ['IPv6 SRv6 SIDs', '5f00:1::/32'],
    ['IPv6 next to the NAT64 prefix', '64:ff9b:2::/48'],
    ['IPv6 below link-local: fe00::/9 ends at fe7f:ffff:...', 'fe00::/9'],
  ])('allows %s', (_what, cidr) => {
    expect(refused(cidr)).toEqual([]);
  });

  test('a wide CIDR names every refused range it swallows, each once', () => {
    expect(refused('fe80::/9')).toEqual(['fe80::/10', 'fec0::/10']);
    expect(refused('fe00::/7')).toEqual(['fe80::/10', 'ff00::/8', 'fec0::/10']);
    // ::/128 and ::1/128 lie in ::/96, which says it already.
    expect(refused('::/64')).toEqual(['::ffff:0:0/96', '::ffff:0:0:0/96', '::/96']);
    expect(refused('0.0.0.0/0')).toEqual(['0.0.0.0/8', '224.0.0.0/4', '169.254.0.0/16', '127.0.0.0/8', '192.0.0.0/24', '240.0.0.0/4']);
  });

  // Addresses belong to the innermost range: the allowed ranges inside 2001::/23 don't make all of it usable.
  test('a CIDR that spans allowed and refused parts of a range is refused; one made only of allowed parts is not', () => {
    expect(refused('2001::/31')).toEqual(['2001::/23']);
    expect(refused('2001:2::/47')).toEqual(['2001::/23']);
    expect(refused('2001:20::/27')).toEqual(['2001:20::/28', '2001:30::/28']);
  });
});

/**
 * fast-check generators of lab configurations over the whole schema, for the property suite
 * (__tests__/config-property.test.ts) and the e2e suite's sample of valid configurations
 * (scripts/e2e/generated-configs.ts). Mostly valid values, with a share of every kind of mistake:
 * special-purpose ranges, host bits, the other family, block sizes too small or out of range, too few
 * blocks, bad names, ports and modes. Every key may be left out (it then takes its default).
 */
import * as fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';
import type { LabConfigInput } from '../../lib/config-schema';

type Family = 'ipv4' | 'ipv6';
const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

/** Ranges worth aiming at: the special-purpose ones (refused and allowed) and the lab's defaults. */
export const INTERESTING_RANGES: Record<Family, readonly string[]> = {
  ipv4: [
    '0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '192.0.0.0/24', '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32',
    '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '192.0.2.0/24', '198.18.0.0/15', '203.0.113.0/24',
    '10.96.0.0/16',
  ],
  ipv6: [
    '::/128', '::1/128', '::/96', '::ffff:0:0/96', '::ffff:0:0:0/96', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64',
    '2001::/23', '2001::/32', '2001:2::/48', '2001:20::/28', 'fe80::/10', 'fec0::/10', 'ff00::/8',
    'fc00::/7', 'fd00:10:244::/48', 'fd00:10:96::/112', '2001:db8::/32', '3fff::/20', '2002::/16', '5f00::/16',
  ],
};

function toBigInt(address: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return address.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

function fromBigInt(n: bigint, family: Family): ipaddr.IPv4 | ipaddr.IPv6 {
  const bytes: number[] = [];
  for (let i = 0; i < BITS[family] / 8; i++) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return ipaddr.fromByteArray(bytes);
}

/** CIDR text for an address and prefix; `hostBits` keeps the address as is, else it is masked. */
function cidrText(n: bigint, prefix: number, family: Family, hostBits = false): string {
  const hostMask = (1n << BigInt(BITS[family] - prefix)) - 1n;
  return `${fromBigInt(hostBits ? n : n & ~hostMask, family).toString()}/${prefix}`;
}

const randomAddress = (family: Family) => fc.bigInt({ min: 0n, max: (1n << BigInt(BITS[family])) - 1n });

/** Where users take their ranges from: private-use, CGNAT, ULA, documentation. */
const USUAL_RANGES: Record<Family, readonly string[]> = {
  ipv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'],
  ipv6: ['fc00::/7', 'fd00::/8', '2001:db8::/32'],
};

/** A CIDR inside one of `ranges` (or around it), at a prefix of `prefixes`. */
function near(family: Family, ranges: readonly string[], prefixes: { min: number; max: number }): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...ranges), randomAddress(family), fc.integer({ min: -4, max: 12 }))
    .map(([range, noise, delta]) => {
      const [address, prefix] = ipaddr.parseCIDR(range);
      const p = Math.min(Math.max(prefix + delta, prefixes.min), prefixes.max);
      const hostMask = (1n << BigInt(BITS[family] - prefix)) - 1n;
      // An address inside the range (or the range's own network address), cut to the new prefix.
      return cidrText(toBigInt(address) | (noise & hostMask), p, family);
    });
}

/** A network CIDR of the family: anywhere, near a special range (inside, around, or swallowing it), or where users take them. */
function networkCidr(family: Family, prefixes: { min: number; max: number }): fc.Arbitrary<string> {
  const anywhere = fc.tuple(randomAddress(family), fc.integer(prefixes)).map(([n, p]) => cidrText(n, p, family));
  const usual = fc.tuple(fc.constantFrom(...USUAL_RANGES[family]), randomAddress(family), fc.integer(prefixes)).map(([range, noise, p]) => {
    const [address, prefix] = ipaddr.parseCIDR(range);
    const hostMask = (1n << BigInt(BITS[family] - prefix)) - 1n;
    return cidrText(toBigInt(address) | (noise & hostMask), Math.max(p, prefix), family);
  });
  return fc.oneof(
    { arbitrary: anywhere, weight: 2 },
    { arbitrary: near(family, INTERESTING_RANGES[family], prefixes), weight: 2 },
    { arbitrary: usual, weight: 3 },
  );
}

/** A CIDR for a key of the family: mostly a network CIDR, sometimes one of the mistakes users make. */
export function cidrFor(family: Family, prefixes: { min: number; max: number }, usual: { min: number; max: number }): fc.Arbitrary<string> {
  const other: Family = family === 'ipv4' ? 'ipv6' : 'ipv4';
  return fc.oneof(
    { arbitrary: networkCidr(family, usual), weight: 16 },
    { arbitrary: networkCidr(family, prefixes), weight: 4 },
    { arbitrary: fc.tuple(randomAddress(family), fc.integer(prefixes)).map(([n, p]) => cidrText(n | 1n, p, family, true)), weight: 1 },
    { arbitrary: networkCidr(other, { min: 8, max: 120 }), weight: 1 },
    { arbitrary: fc.constantFrom('10.0.0.0', 'fd00::/129', '300.1.0.0/16', 'not-a-cidr', ''), weight: 1 },
  );
}

const mode = fc.oneof(
  { arbitrary: fc.constantFrom('Never', 'Always', 'CrossSubnet'), weight: 40 },
  { arbitrary: fc.constantFrom('always', 'sometimes'), weight: 1 },
);

function pool(family: Family): fc.Arbitrary<Record<string, unknown>> {
  const [min, max] = family === 'ipv4' ? [20, 32] : [116, 128];
  return fc.record({
    cidr: cidrFor(family, family === 'ipv4' ? { min: 8, max: 32 } : { min: 32, max: 128 }, family === 'ipv4' ? { min: 8, max: 24 } : { min: 40, max: 116 }),
    blockSize: fc.oneof({ arbitrary: fc.integer({ min, max }), weight: 40 }, { arbitrary: fc.constantFrom(min - 1, max + 1), weight: 1 }),
    vxlanMode: mode,
    // Mostly "Never": IPIP with VXLAN, or on IPv6, is refused, and a pool mostly refused teaches less.
    ipipMode: fc.oneof({ arbitrary: fc.constant('Never'), weight: 15 }, { arbitrary: mode, weight: 1 }),
    natOutgoing: fc.boolean(),
  }, { requiredKeys: [] });
}

const DIGEST = `@sha256:${'0123456789abcdef'.repeat(4)}`;

const port = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 65535 }), weight: 50 }, { arbitrary: fc.constantFrom(0, 65536), weight: 1 });

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

/** A configuration as a user might write it: any key may be missing. */
export function labConfigInput(): fc.Arbitrary<LabConfigInput> {
  return fc.record({
    clusterName: fc.oneof({ arbitrary: dnsLabel, weight: 30 }, { arbitrary: fc.constantFrom('Lab_1', '-lab', 'a'.repeat(51)), weight: 1 }),
    workers: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 10 }), weight: 50 }, { arbitrary: fc.constantFrom(0, 11), weight: 1 }),
    kindNodeImage: fc.constantFrom(
      `kindest/node:v1.28.15${DIGEST}`, 'kindest/node:v1.28.15', `kindest/node:v1.31.2${DIGEST}`, `registry.local:5000/kind/node:dev${DIGEST}`,
    ),
    pools: fc.record({ ipv4: pool('ipv4'), ipv6: pool('ipv6') }, { requiredKeys: [] }),
    serviceSubnets: fc.record({
      ipv4: cidrFor('ipv4', { min: 8, max: 30 }, { min: 12, max: 28 }),
      ipv6: cidrFor('ipv6', { min: 96, max: 124 }, { min: 108, max: 124 }),
    }, { requiredKeys: [] }),
    multitool: fc.record({ port, servicePort: port }, { requiredKeys: [] }),
  }, { requiredKeys: [] }) as fc.Arbitrary<LabConfigInput>;
}

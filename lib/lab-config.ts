/**
 * Loading and validating lab.config.yaml: YAML parsing, the JSON Schema (lib/config-schema.ts) through
 * ajv, then the CIDR checks a schema cannot express. The constructs never import this module.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as ipaddr from 'ipaddr.js';
import { asNumberProblem } from './as-number';
import {
  BLOCK_SIZE_RANGE, DUAL_STACK, FAMILY_NAME, IPV6_ONLY, IpFamily, ParsedAddress, ParsedCidr, WIDEST_SERVICE_PREFIX, contains,
  familiesOf, overlaps, parseCidr, parseHostAddress,
} from './cidr';
import {
  ALLOWED_KEYWORD, DEFAULT_IPV6_ONLY, DEFAULT_LAB_CONFIG, IP_FAMILIES_ALLOWED, LabConfig, LabConfigInput, labConfigSchema,
} from './config-schema';
import { DEFAULT_EXTERNAL_HOST, DEFAULT_POOLS, DEFAULT_SERVICE_SUBNETS, KIND_NODE_IMAGE } from './defaults';
import { KUBEADM_MIN_POD_SUBNET_ADDRESSES, kindNodeNames } from './kind-cluster-config';
import { hashedRouterIdCollision } from './router-id';
import { refusedRangesOverlapping } from './special-ranges';

/** One problem in a configuration: where, what was received, what is allowed. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** Thrown when a configuration is rejected; carries every problem found, not just the first. */
export class LabConfigError extends Error {
  public readonly problems: readonly ConfigProblem[];
  constructor(public readonly source: string, problems: readonly ConfigProblem[]) {
    super([`invalid lab configuration in ${source}:`, ...problems.map(p => `  - ${p.path}: ${p.message}`)].join('\n'));
    this.name = 'LabConfigError';
    this.problems = problems;
  }
}

let schemaValidator: ValidateFunction | undefined;

/**
 * Compiled on first use: loading ajv and TypeBox and compiling is over a third of the synth app's
 * start-up, and a synth with no configuration file has nothing to check.
 */
function validateSchema(input: unknown): { valid: boolean; errors: ErrorObject[] } {
  if (!schemaValidator) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: Ajv } = require('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
    ajv.addKeyword(ALLOWED_KEYWORD);
    schemaValidator = ajv.compile(labConfigSchema());
  }
  const valid = schemaValidator(input);
  return { valid, errors: schemaValidator.errors ?? [] };
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

function keyPath(instancePath: string): string {
  return instancePath.split('/').filter(Boolean).join('.') || '(top level)';
}

function valueAt(root: unknown, instancePath: string): unknown {
  return instancePath.split('/').filter(Boolean).reduce<any>((v, k) => (v == null ? v : v[k]), root);
}

function describeSchemaError(input: unknown, e: ErrorObject): ConfigProblem {
  const where = keyPath(e.instancePath);
  const got = show(valueAt(input, e.instancePath));
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const schema = e.parentSchema as { properties: Record<string, unknown> };
      const at = e.instancePath ? `${keyPath(e.instancePath)}.${key}` : key;
      return { path: at, message: `unknown key; allowed keys here: ${Object.keys(schema.properties).join(', ')}` };
    }
    case 'enum':
      return { path: where, message: `got ${got}; allowed: ${(e.params as { allowedValues: unknown[] }).allowedValues.map(v => show(v)).join(', ')}` };
    case 'type':
      return { path: where, message: `got ${got}; allowed: a value of type ${(e.params as { type: string }).type}` };
    case 'minimum':
    case 'maximum': {
      const s = e.parentSchema as { minimum: number; maximum: number; [ALLOWED_KEYWORD]?: string };
      return { path: where, message: `got ${got}; allowed: ${s[ALLOWED_KEYWORD] ?? `an integer from ${s.minimum} to ${s.maximum}`}` };
    }
    case 'pattern':
      return { path: where, message: `got ${got}; allowed: ${(e.parentSchema as { [ALLOWED_KEYWORD]: string })[ALLOWED_KEYWORD]}` };
    case 'maxLength':
      return { path: where, message: `got ${got}; allowed: at most ${(e.params as { limit: number }).limit} characters` };
    case 'minItems':
      return { path: where, message: `got ${got}, an empty list; allowed: ${(e.parentSchema as { [ALLOWED_KEYWORD]: string })[ALLOWED_KEYWORD]}` };
    case 'uniqueItems':
      return { path: where, message: `got ${got}, which names a family twice; allowed: ${(e.parentSchema as { [ALLOWED_KEYWORD]: string })[ALLOWED_KEYWORD]}` };
    default:
      return { path: where, message: `got ${got}; ${e.message}` };
  }
}

/**
 * Fills the keys the user left out with the lab's defaults; the family set decides which keys exist.
 * Under routing "bgp" the pools default to no encapsulation (vxlanMode and ipipMode "Never"): the nodes
 * route pod traffic natively.
 */
export function withDefaults(input: LabConfigInput): LabConfig {
  const d = DEFAULT_LAB_CONFIG;
  const routing = input.routing ?? d.routing;
  const native = routing === 'bgp' ? { vxlanMode: 'Never', ipipMode: 'Never' } as const : {};
  const common = {
    clusterName: input.clusterName ?? d.clusterName,
    workers: input.workers ?? d.workers,
    kindNodeImage: input.kindNodeImage ?? d.kindNodeImage,
    multitool: { ...d.multitool, ...input.multitool },
    routing,
    bgp: { ...d.bgp, ...input.bgp },
    router: {
      asNumber: input.router?.asNumber ?? d.router.asNumber,
      peerIPs: { ...d.router.peerIPs, ...input.router?.peerIPs },
      network: { ...d.router.network, ...input.router?.network },
      image: input.router?.image ?? d.router.image,
    },
    policy: input.policy ?? d.policy,
    externalHost: { ...d.externalHost, ...input.externalHost },
  };
  if (isIpv6OnlyInput(input)) {
    return {
      ...common,
      ipFamilies: IPV6_ONLY,
      pools: { ipv6: { ...d.pools.ipv6, ...native, ...input.pools?.ipv6 } },
      serviceSubnets: { ipv6: input.serviceSubnets?.ipv6 ?? d.serviceSubnets.ipv6 },
      nat64: { ...DEFAULT_IPV6_ONLY.nat64, ...input.nat64 },
      dns: { ...DEFAULT_IPV6_ONLY.dns, ...input.dns },
    };
  }
  return {
    ...common,
    ipFamilies: DUAL_STACK,
    pools: {
      ipv4: { ...d.pools.ipv4, ...native, ...input.pools?.ipv4 },
      ipv6: { ...d.pools.ipv6, ...native, ...input.pools?.ipv6 },
    },
    serviceSubnets: { ...d.serviceSubnets, ...input.serviceSubnets },
  };
}

/**
 * The checks of routing "bgp": pools unencapsulated, AS numbers usable and different (eBGP), the router's
 * addresses hosts of kind's network that no pool or Service range covers. `input` tells the keys the
 * user wrote: a BGP key set to anything but its default under routing "vxlan" would do nothing, so it
 * is refused, not ignored.
 */
function checkRouting(
  config: LabConfig,
  input: LabConfigInput,
  ranges: ReadonlyArray<{ path: string; cidr: ParsedCidr }>,
  reported: ReadonlySet<string>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.routing !== 'bgp') {
    // A value that differs from its default does nothing here: most likely routing: "bgp" was forgotten.
    for (const [path, value, dflt] of leaves({ bgp: input.bgp, router: input.router }, { bgp: DEFAULT_LAB_CONFIG.bgp, router: DEFAULT_LAB_CONFIG.router })) {
      if (value !== undefined && value !== dflt) {
        problems.push({ path, message: `got ${show(value)} while routing is ${show(config.routing)}, where it does nothing; allowed: the default ${show(dflt)}, or routing: "bgp"` });
      }
    }
    return problems;
  }

  const families = familiesOf(config.ipFamilies);
  for (const family of families) {
    for (const mode of ['vxlanMode', 'ipipMode'] as const) {
      const value = config.pools[family]![mode];
      // An IP-in-IP IPv6 pool has its own message already.
      if (value !== 'Never' && !reported.has(`pools.${family}.${mode}`)) {
        problems.push({ path: `pools.${family}.${mode}`, message: `got ${show(value)} with routing "bgp"; allowed: "Never" (routing "bgp" carries pod traffic unencapsulated, on routes the nodes announce)` });
      }
    }
  }

  if (!families.includes('ipv4')) {
    problems.push(...checkHashedRouterIds(config));
  }

  for (const [path, value] of [['bgp.asNumber', config.bgp.asNumber], ['router.asNumber', config.router.asNumber]] as const) {
    const problem = asNumberProblem(value);
    if (problem) problems.push({ path, message: problem });
  }
  if (config.router.asNumber === config.bgp.asNumber) {
    problems.push({ path: 'router.asNumber', message: `got ${config.router.asNumber}, the cluster's AS number (bgp.asNumber); allowed: another AS number (the lab peers the cluster with the router over eBGP)` });
  }

  for (const family of families) {
    const networkPath = `router.network.${family}`;
    const network = parseCidr(config.router.network[family], family);
    if (typeof network === 'string') {
      problems.push({ path: networkPath, message: network });
    } else {
      for (const range of ranges.filter(r => overlaps(r.cidr, network))) {
        problems.push({ path: networkPath, message: `got ${show(config.router.network[family])}, which overlaps ${range.path} (${show(valueAtPath(config, range.path))}); allowed: kind's Docker network, disjoint from every pool and Service range` });
      }
    }

    const addressPath = `router.peerIPs.${family}`;
    const value = config.router.peerIPs[family];
    const address = parseHostAddress(value, family);
    if (typeof address === 'string') {
      problems.push({ path: addressPath, message: address });
      continue;
    }
    const inside = ranges.filter(r => contains(r.cidr, address));
    for (const range of inside) {
      problems.push({ path: addressPath, message: `got ${show(value)}, inside ${range.path} (${show(valueAtPath(config, range.path))}); allowed: an address outside every pool and Service range, on kind's Docker network` });
    }
    if (typeof network === 'string' || inside.length > 0) continue;
    if (!contains(network, address)) {
      problems.push({ path: addressPath, message: `got ${show(value)}, outside ${networkPath} (${show(config.router.network[family])}); allowed: an ${FAMILY_NAME[family]} address of kind's Docker network` });
      continue;
    }
    const reserved = reservedOnDockerNetwork(network, address);
    if (reserved) {
      problems.push({ path: addressPath, message: `got ${show(value)}, ${reserved} of ${networkPath} (${show(config.router.network[family])}); allowed: another address of that network, best one at its far end` });
    }
  }
  return problems;
}

/**
 * Without IPv4 every node's BIRD takes the router ID calico-node hashes from its name
 * (`CALICO_ROUTER_ID=hash`, lib/router-id.ts), and the router the one hashed from its hostname: two equal
 * IDs break the node-to-node mesh or the router's session. The names follow clusterName and workers.
 */
function checkHashedRouterIds(config: LabConfig): ConfigProblem[] {
  const roles = ['control-plane', ...Array.from({ length: config.workers }, () => 'worker' as const)] as const;
  const collision = hashedRouterIdCollision([`${config.clusterName}-router`, ...kindNodeNames(config.clusterName, roles).map(n => n.name)]);
  if (!collision) return [];
  return [{
    path: 'clusterName',
    message: `got ${show(config.clusterName)}: ${collision.a} and ${collision.b} hash to the same BGP router ID ${collision.id} (an IPv6-only node's BIRD uses CALICO_ROUTER_ID=hash); allowed: another cluster name`,
  }];
}

function isIpv6OnlyInput(input: LabConfigInput): boolean {
  return input.ipFamilies?.length === 1 && input.ipFamilies[0] === 'IPv6';
}

/**
 * The family set, and the keys that only one family set has, as the user wrote them (before defaults):
 * an IPv6-only lab has no IPv4 pool or service range, and a dual-stack lab no NAT64. A key that would be
 * silently ignored is refused instead.
 */
export function checkFamilyKeys(input: LabConfigInput): ConfigProblem[] {
  const families = input.ipFamilies;
  if (families && families.length === 1 && families[0] === 'IPv4') {
    return [{
      path: 'ipFamilies',
      message: `got ${show(families)}, an IPv4-only lab; allowed: ${IP_FAMILIES_ALLOWED} (this lab teaches IPv6 pod networking: an IPv4-only cluster has none)`,
    }];
  }
  if (families && families.length === 2 && families[0] === 'IPv6') {
    return [{
      path: 'ipFamilies',
      message: `got ${show(families)}, IPv6-primary dual-stack; allowed: ${IP_FAMILIES_ALLOWED} (the lab's dual-stack is IPv4-primary, as its README: kind and the Services take the first family as primary)`,
    }];
  }
  const problems: ConfigProblem[] = [];
  if (isIpv6OnlyInput(input)) {
    const why = 'an IPv6-only lab (ipFamilies ["IPv6"]) has none; remove it, or set ipFamilies to ["IPv4", "IPv6"]';
    if (input.pools?.ipv4 !== undefined) {
      problems.push({ path: 'pools.ipv4', message: `got ${show(input.pools.ipv4)}, an IPv4 pool; allowed: no IPv4 pool: ${why}` });
    }
    if (input.serviceSubnets?.ipv4 !== undefined) {
      problems.push({ path: 'serviceSubnets.ipv4', message: `got ${show(input.serviceSubnets.ipv4)}, an IPv4 service range; allowed: no IPv4 service range: ${why}` });
    }
    // The router peers with IPv6-only nodes over IPv6 alone: its IPv4 keys would be silently ignored.
    for (const key of ['peerIPs', 'network'] as const) {
      if (input.router?.[key]?.ipv4 !== undefined) {
        problems.push({ path: `router.${key}.ipv4`, message: `got ${show(input.router[key]!.ipv4)}, an IPv4 value for the BGP router; allowed: none: the nodes of an IPv6-only lab (ipFamilies ["IPv6"]) peer over IPv6 only; remove it, or set ipFamilies to ["IPv4", "IPv6"]` });
      }
    }
  } else {
    for (const key of ['nat64', 'dns'] as const) {
      if (input[key] !== undefined) {
        problems.push({
          path: key,
          message: `got ${show(input[key])} in a dual-stack lab; allowed: ${key} only with ipFamilies ["IPv6"] (pods with an IPv4 address need no NAT64 or DNS64)`,
        });
      }
    }
  }
  return problems;
}

/** [dotted path, value in `input`, value in `defaults`] for every leaf key of `defaults`. */
function leaves(input: any, defaults: any, prefix = ''): Array<[string, unknown, unknown]> {
  return Object.entries(defaults).flatMap(([key, dflt]) => {
    const at = prefix ? `${prefix}.${key}` : key;
    return dflt !== null && typeof dflt === 'object'
      ? leaves(input?.[key], dflt, at)
      : [[at, input?.[key], dflt] as [string, unknown, unknown]];
  });
}

/** What a Docker bridge network keeps for itself: the network address, the first host (the gateway), the IPv4 broadcast. */
function reservedOnDockerNetwork(network: ParsedCidr, address: ParsedAddress): string | undefined {
  const toBigInt = (a: ParsedAddress['address']) => a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  const offset = toBigInt(address.address) - toBigInt(network.address);
  const size = 1n << BigInt((network.family === 'ipv4' ? 32 : 128) - network.prefix);
  if (offset === 0n) return 'the network address';
  if (offset === 1n) return "Docker's gateway (the network's first address)";
  if (network.family === 'ipv4' && offset === size - 1n) return 'the broadcast address';
  return undefined;
}

/**
 * Checks what a schema cannot: CIDR syntax and family, block sizes, overlaps, service range sizes,
 * encapsulation, and routing "bgp"'s AS numbers and router addresses. `input`, what the user wrote, tells
 * the keys that were set.
 */
export function checkSemantics(config: LabConfig, input: LabConfigInput = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ranges: Array<{ path: string; cidr: ParsedCidr }> = [];

  const families = familiesOf(config.ipFamilies);
  for (const family of families) {
    const pool = config.pools[family]!;
    const at = `pools.${family}`;
    const cidr = parseCidr(pool.cidr, family);
    if (typeof cidr === 'string') {
      problems.push({ path: `${at}.cidr`, message: cidr });
    } else {
      ranges.push({ path: `${at}.cidr`, cidr });
    }
    const [min, max] = BLOCK_SIZE_RANGE[family];
    if (typeof cidr !== 'string' && pool.blockSize < cidr.prefix) {
      problems.push({ path: `${at}.blockSize`, message: `got ${pool.blockSize}, shorter than the pool's prefix /${cidr.prefix}; allowed: ${Math.max(min, cidr.prefix)} to ${max}` });
    }
    if (family === 'ipv6' && pool.ipipMode !== 'Never') {
      problems.push({ path: `${at}.ipipMode`, message: `got ${show(pool.ipipMode)}; allowed: "Never" (Calico has no IP-in-IP for IPv6; use vxlanMode)` });
    } else if (pool.ipipMode !== 'Never' && pool.vxlanMode !== 'Never') {
      problems.push({ path: `${at}.ipipMode`, message: `got ${show(pool.ipipMode)} while vxlanMode is ${show(pool.vxlanMode)}; allowed: "Never" unless vxlanMode is "Never" (a pool uses one encapsulation)` });
    }
  }

  for (const family of families) {
    const at = `serviceSubnets.${family}`;
    const cidr = parseCidr(config.serviceSubnets[family]!, family);
    if (typeof cidr === 'string') {
      problems.push({ path: at, message: cidr });
      continue;
    }
    const widest = WIDEST_SERVICE_PREFIX[family];
    if (cidr.prefix < widest) {
      problems.push({ path: at, message: `got ${show(config.serviceSubnets[family])}, wider than kube-apiserver accepts; allowed: a prefix of /${widest} or longer` });
    }
    ranges.push({ path: at, cidr });
  }

  if (config.nat64) {
    problems.push(...checkNat64(config.nat64, config.dns, ranges));
  }

  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [a, b] = [ranges[i], ranges[j]];
      if (overlaps(a.cidr, b.cidr)) {
        problems.push({
          path: b.path,
          message: `got ${show(valueAtPath(config, b.path))}, which overlaps ${a.path} (${show(valueAtPath(config, a.path))}); allowed: a range disjoint from it`,
        });
      }
    }
  }

  problems.push(...checkSpecialRanges(config), ...checkPodSubnetSizes(config), ...checkPoolCapacity(config));
  problems.push(...checkRouting(config, input, ranges, new Set(problems.map(p => p.path))));
  // The external host has fixed addresses only in the policy lesson (without it Docker picks them).
  if (config.policy === 'on' || input.externalHost !== undefined) {
    problems.push(...checkExternalHost(config, ranges));
  }
  return problems;
}

/**
 * The external host's addresses: one host address of the right family each, outside every pool and
 * Service range (a packet to it would otherwise be routed into the cluster, not to the host).
 */
function checkExternalHost(config: LabConfig, ranges: ReadonlyArray<{ path: string; cidr: ParsedCidr }>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const family of familiesOf(config.ipFamilies)) {
    const at = `externalHost.${family}`;
    const address = parseHostAddress(config.externalHost[family], family, DEFAULT_EXTERNAL_HOST[family]);
    if (typeof address === 'string') {
      problems.push({ path: at, message: address });
      continue;
    }
    for (const range of ranges) {
      if (contains(range.cidr, address)) {
        problems.push({
          path: at,
          message: `got ${show(config.externalHost[family])}, inside ${range.path} (${show(valueAtPath(config, range.path))}): the pods would route it into the cluster, not to the external host; allowed: an address outside the pools and Service ranges, on kind's Docker network`,
        });
      }
    }
  }
  return problems;
}

/**
 * The NAT64 prefix (an IPv6 /96 that is not the well-known prefix), tayga's IPv4 pool, and the gateway and
 * DNS upstream addresses (IPv6 unicast addresses outside the cluster's ranges). Adds the prefix to `ranges`
 * for the overlap check.
 */
function checkNat64(
  nat64: NonNullable<LabConfig['nat64']>,
  dns: NonNullable<LabConfig['dns']>,
  ranges: Array<{ path: string; cidr: ParsedCidr }>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const prefix = parseCidr(nat64.prefix, 'ipv6');
  if (typeof prefix === 'string') {
    problems.push({ path: 'nat64.prefix', message: prefix.replace(/such as [^ ]+$/, `such as ${DEFAULT_IPV6_ONLY.nat64.prefix}`) });
  } else if (prefix.prefix !== 96) {
    problems.push({ path: 'nat64.prefix', message: `got ${show(nat64.prefix)}; allowed: a /96, so that the last 32 bits of an address are the IPv4 address (CoreDNS's dns64 and tayga both accept it)` });
  } else if (prefix.address.toString() === '64:ff9b::') {
    problems.push({
      path: 'nat64.prefix',
      message: `got ${show(nat64.prefix)}, the well-known prefix; allowed: a network-specific /96 such as ${DEFAULT_IPV6_ONLY.nat64.prefix} (RFC 6052 forbids the well-known prefix for private IPv4 addresses, tayga drops them, and the lab's IPv4 hosts are on Docker's private network)`,
    });
  } else if (prefix.address.toByteArray()[0] === 0) {
    problems.push({
      path: 'nat64.prefix',
      message: `got ${show(nat64.prefix)}, inside ::/8; allowed: a network-specific /96 such as ${DEFAULT_IPV6_ONLY.nat64.prefix} (Debian 12's tayga 0.9.2 refuses ::/8 as reserved, RFC 8215's 64:ff9b:1::/48 included: "Cannot use reserved address ... in prefix directive")`,
    });
  } else if (!['uniqueLocal', 'unicast'].includes(prefix.address.range())) {
    problems.push({ path: 'nat64.prefix', message: `got ${show(nat64.prefix)}, a ${prefix.address.range()} range; allowed: a unicast /96 such as ${DEFAULT_IPV6_ONLY.nat64.prefix}` });
  } else {
    ranges.push({ path: 'nat64.prefix', cidr: prefix });
  }
  const pool = parseCidr(nat64.ipv4Pool, 'ipv4');
  if (typeof pool === 'string') {
    problems.push({ path: 'nat64.ipv4Pool', message: pool.replace(/such as [^ ]+$/, 'such as 192.168.255.0/24') });
  } else if (pool.prefix > 31) {
    problems.push({ path: 'nat64.ipv4Pool', message: `got ${show(nat64.ipv4Pool)}; allowed: a prefix of /31 or shorter (tayga keeps the lowest address of its dynamic pool, and takes the next one for itself)` });
  }
  for (const [at, value, example] of [['nat64.gateway', nat64.gateway, DEFAULT_IPV6_ONLY.nat64.gateway], ['dns.upstream', dns.upstream, DEFAULT_IPV6_ONLY.dns.upstream]] as const) {
    const problem = checkIpv6Host(value, example, ranges);
    if (problem) problems.push({ path: at, message: problem });
  }
  if (ipaddr.IPv6.isValid(nat64.gateway) && ipaddr.IPv6.isValid(dns.upstream) &&
    ipaddr.IPv6.parse(nat64.gateway).toNormalizedString() === ipaddr.IPv6.parse(dns.upstream).toNormalizedString()) {
    problems.push({
      path: 'dns.upstream',
      message: `got ${show(dns.upstream)}, the address of nat64.gateway; allowed: another IPv6 address on kind's Docker network such as ${DEFAULT_IPV6_ONLY.dns.upstream} (deploy.sh starts the DNS forwarder and the NAT64 as two containers, each at its own address)`,
    });
  }
  return problems;
}

/** The pool and Service CIDRs of a configuration that parse (checkSemantics reports those that don't). */
function parsedRanges(config: LabConfig): Array<{ path: string; value: string; cidr: ParsedCidr; example: string }> {
  const candidates = familiesOf(config.ipFamilies).flatMap(family => [
    { path: `pools.${family}.cidr`, value: config.pools[family]!.cidr, family, example: DEFAULT_POOLS[family].cidr },
    { path: `serviceSubnets.${family}`, value: config.serviceSubnets[family]!, family, example: DEFAULT_SERVICE_SUBNETS[family] },
  ]);
  return candidates.flatMap(c => {
    const cidr = parseCidr(c.value, c.family);
    return typeof cidr === 'string' ? [] : [{ path: c.path, value: c.value, cidr, example: c.example }];
  });
}

/**
 * Pools and Service ranges that overlap a special-purpose range the lab refuses (lib/special-ranges.ts):
 * link-local, multicast, loopback, unspecified, IPv4-mapped/-compatible/-translated IPv6, broadcast and
 * reserved IPv4, NAT64 prefixes, and what else the IANA registries mark not forwardable. One problem per key.
 */
export function checkSpecialRanges(config: LabConfig): ConfigProblem[] {
  return parsedRanges(config).flatMap(({ path: at, value, cidr, example }) => {
    const hits = refusedRangesOverlapping(cidr);
    if (hits.length === 0) return [];
    const inside = hits.length === 1 && hits[0].prefix <= cidr.prefix;
    const named = hits.map(h => `${h.cidr}, ${FAMILY_NAME[h.family]} ${h.name}: ${h.why}`).join('; and ');
    return [{
      path: at,
      message: `got ${show(value)}, which ${inside ? 'lies in' : 'overlaps'} ${named}; allowed: a range clear of the special-purpose ranges that docs/configuration.md lists, such as ${example}`,
    }];
  });
}

/** kubeadm's smallest pod subnet (MinimumAddressesInPodSubnet); the KindClusterConfig construct refuses smaller ones too. */
export function checkPodSubnetSizes(config: LabConfig): ConfigProblem[] {
  return parsedRanges(config).filter(r => r.path.startsWith('pools.')).flatMap(({ path: at, value, cidr }) => {
    const bits = cidr.family === 'ipv4' ? 32 : 128;
    const longest = bits - Math.ceil(Math.log2(KUBEADM_MIN_POD_SUBNET_ADDRESSES));
    if (cidr.prefix <= longest) return [];
    return [{
      path: at,
      message: `got ${show(value)}, ${2 ** (bits - cidr.prefix)} addresses; kubeadm refuses a pod subnet of fewer than ${KUBEADM_MIN_POD_SUBNET_ADDRESSES}; allowed: a prefix of /${longest} or shorter`,
    }];
  });
}

/** Nodes of the kind cluster: the control plane and the workers. */
export function nodeCount(config: LabConfig): number {
  return 1 + config.workers;
}

/**
 * Pools with fewer blocks (2^(blockSize - prefix)) than the cluster has nodes: a node without a block of
 * its own borrows addresses from another node's block, and the lab's "one block per node and family"
 * (routes per block, verify's checks) no longer holds. Skipped where the block size is already refused.
 */
export function checkPoolCapacity(config: LabConfig): ConfigProblem[] {
  const nodes = nodeCount(config);
  const bitsNeeded = Math.ceil(Math.log2(nodes));
  return familiesOf(config.ipFamilies).flatMap((family: IpFamily) => {
    const pool = config.pools[family]!;
    const cidr = parseCidr(pool.cidr, family);
    const [, maxBlock] = BLOCK_SIZE_RANGE[family];
    if (typeof cidr === 'string' || pool.blockSize < cidr.prefix || pool.blockSize - cidr.prefix >= bitsNeeded) return [];
    const blocks = 2 ** (pool.blockSize - cidr.prefix);
    const smallestFit = cidr.prefix + bitsNeeded;
    const longestPrefix = pool.blockSize - bitsNeeded;
    const fits = [
      ...(smallestFit < maxBlock ? [`a blockSize of ${smallestFit} or more (at most ${maxBlock})`] : []),
      ...(smallestFit === maxBlock ? [`a blockSize of ${maxBlock}`] : []),
      `a pool prefix of /${longestPrefix} or shorter`,
    ];
    const workers = `${config.workers} worker${config.workers === 1 ? '' : 's'}`;
    return [{
      path: `pools.${family}.blockSize`,
      message: `got ${pool.blockSize} for the pool ${pool.cidr}: ${blocks} block${blocks === 1 ? '' : 's'} of /${pool.blockSize} for ${nodes} nodes (1 control plane + ${workers}), and every node needs a block of its own; allowed: ${fits.join(', or ')}`,
    }];
  });
}

/**
 * The Kubernetes minors Calico v3.28 is tested against: v1.27 to v1.30, from Calico v3.28's system
 * requirements (https://docs.tigera.io/calico/3.28/getting-started/kubernetes/requirements, "Supported versions").
 */
export const CALICO_TESTED_KUBERNETES: { readonly from: number; readonly to: number } = { from: 27, to: 30 };

/** The tag of an image reference (`name[:tag][@sha256:digest]`), if it has one. */
function imageTag(image: string): string | undefined {
  const name = image.split('@')[0];
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? last.slice(last.indexOf(':') + 1) : undefined;
}

/**
 * What a configuration may do but the lab was not made for; printed on stderr at synth, never fatal:
 * a kind node image whose Kubernetes version (read from its tag) Calico v3.28 is not tested against, or
 * one not pinned by digest. The defaults give none.
 */
export function configWarnings(config: LabConfig): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  const image = config.kindNodeImage;
  const tag = imageTag(image);
  const version = tag === undefined ? undefined : /^v?1\.(\d+)(\.\d+)?([-+].*)?$/.exec(tag);
  const { from, to } = CALICO_TESTED_KUBERNETES;
  const tested = `Calico v3.28 is tested against Kubernetes 1.${from} to 1.${to}, and the lab was made for ${show(imageTag(KIND_NODE_IMAGE))}`;
  if (!version) {
    const which = tag === undefined ? 'has no tag to read a Kubernetes version from' : `has the tag ${show(tag)}, which names no Kubernetes version`;
    warnings.push({ path: 'kindNodeImage', message: `${show(image)} ${which}; ${tested}` });
  } else {
    const minor = Number(version[1]);
    if (minor < from || minor > to) {
      warnings.push({ path: 'kindNodeImage', message: `${show(image)} runs Kubernetes 1.${minor}; ${tested}` });
    }
  }
  if (!image.includes('@sha256:')) {
    const pinned = tag !== undefined && KIND_NODE_IMAGE.startsWith(`${image}@`) ? `; pinned, it is ${show(KIND_NODE_IMAGE)}` : '';
    warnings.push({ path: 'kindNodeImage', message: `${show(image)} has no @sha256: digest, so the node image behind it can change under you (kind's release notes give each image's digest)${pinned}` });
  }
  return warnings;
}

/** Warnings as printed on stderr, one line each. */
export function formatWarnings(source: string, warnings: readonly ConfigProblem[]): string[] {
  return warnings.map(w => `warning: ${source}: ${w.path}: ${w.message}`);
}

/** Why `value` is not an IPv6 unicast address outside `ranges`, or undefined. */
function checkIpv6Host(value: string, example: string, ranges: ReadonlyArray<{ path: string; cidr: ParsedCidr }>): string | undefined {
  const allowed = `allowed: an IPv6 address on kind's Docker network such as ${example}`;
  if (!ipaddr.IPv6.isValid(value) || value.includes('/')) {
    return `got ${show(value)}, which is not an IPv6 address; ${allowed}`;
  }
  const address = ipaddr.IPv6.parse(value);
  if (!['uniqueLocal', 'unicast'].includes(address.range())) {
    return `got ${show(value)}, a ${address.range()} address; ${allowed}`;
  }
  const inside = ranges.find(r => r.cidr.family === 'ipv6' && address.match(r.cidr.address as ipaddr.IPv6, r.cidr.prefix));
  if (inside) {
    return `got ${show(value)}, which is inside ${inside.path}; ${allowed}, outside the cluster's ranges`;
  }
  return undefined;
}

function valueAtPath(config: LabConfig, dotted: string): unknown {
  return dotted.split('.').reduce<any>((v, k) => v?.[k], config);
}

/** Validates a parsed configuration document; throws LabConfigError listing every problem. */
export function resolveLabConfig(input: unknown, source = 'configuration'): LabConfig {
  if (input === null || input === undefined) {
    input = {};
  }
  const isEmptyMapping = typeof input === 'object' && !Array.isArray(input) && Object.keys(input as object).length === 0;
  if (!isEmptyMapping) {
    const { valid, errors } = validateSchema(input);
    if (!valid) {
      throw new LabConfigError(source, dedupe(errors.map(e => describeSchemaError(input, e))));
    }
  }
  const familyProblems = checkFamilyKeys(input as LabConfigInput);
  if (familyProblems.length > 0) {
    throw new LabConfigError(source, familyProblems);
  }
  const config = withDefaults(input as LabConfigInput);
  const problems = checkSemantics(config, input as LabConfigInput);
  if (problems.length > 0) {
    throw new LabConfigError(source, problems);
  }
  return config;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter(p => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses YAML text; syntax errors become problems that name the line and column. */
export function parseLabConfigYaml(text: string, source: string): unknown {
  // Loaded only when there is a file to parse: cdk8s bundles its own copy for writing YAML.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parseDocument } = require('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new LabConfigError(source, doc.errors.map(e => {
      const pos = e.linePos?.[0];
      return {
        path: pos ? `line ${pos.line}, column ${pos.col}` : '(document)',
        message: `YAML syntax error: ${e.message.split('\n')[0]}`,
      };
    }));
  }
  return doc.toJS();
}

export const DEFAULT_CONFIG_FILE = 'lab.config.yaml';

/**
 * Loads the lab configuration: the file named by LAB_CONFIG, else ./lab.config.yaml if present,
 * else the defaults. A file named by LAB_CONFIG that does not exist is an error, not a silent default.
 */
export function loadLabConfig(options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { config: LabConfig; source: string } {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const named = env.LAB_CONFIG;
  const file = path.resolve(cwd, named || DEFAULT_CONFIG_FILE);
  if (!fs.existsSync(file)) {
    if (named) {
      throw new LabConfigError(named, [{ path: 'LAB_CONFIG', message: `got ${show(named)}, which does not exist; allowed: the path of a YAML file` }]);
    }
    return { config: resolveLabConfig({}, 'defaults'), source: 'defaults' };
  }
  const source = path.relative(cwd, file) || file;
  return { config: resolveLabConfig(parseLabConfigYaml(fs.readFileSync(file, 'utf8'), source), source), source };
}

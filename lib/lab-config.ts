import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as ipaddr from 'ipaddr.js';
import { MULTITOOL_DEFAULT_IMAGE } from './multitool';
import { DNS1123_LABEL } from './validate';

/** Calico's encapsulation modes, as IPPool `ipipMode` / `vxlanMode` spell them. */
export type EncapsulationMode = 'Never' | 'Always' | 'CrossSubnet';
export const ENCAPSULATION_MODES: readonly EncapsulationMode[] = ['Never', 'Always', 'CrossSubnet'];

export type IpFamily = 'ipv4' | 'ipv6';
export const IP_FAMILIES: readonly IpFamily[] = ['ipv4', 'ipv6'];
const FAMILY_NAME: Record<IpFamily, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

export interface PoolConfig {
  readonly cidr: string;
  readonly blockSize: number;
  readonly vxlanMode: EncapsulationMode;
  readonly ipipMode: EncapsulationMode;
  readonly natOutgoing: boolean;
}

export interface LabConfig {
  readonly clusterName: string;
  readonly workers: number;
  readonly kindNodeImage: string;
  readonly pools: { readonly ipv4: PoolConfig; readonly ipv6: PoolConfig };
  readonly serviceSubnets: { readonly ipv4: string; readonly ipv6: string };
  readonly multitool: {
    readonly image: string;
    readonly port: number;
    readonly servicePort: number;
  };
}

/** A partial configuration as a user writes it in lab.config.yaml. */
export type LabConfigInput = {
  [K in keyof LabConfig]?: LabConfig[K] extends object ? DeepPartial<LabConfig[K]> : LabConfig[K];
};
type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** kind v0.25.0's node image for Kubernetes 1.28.15, pinned by digest as kind's release notes ask. */
export const KIND_NODE_IMAGE =
  'kindest/node:v1.28.15@sha256:a7c05c7ae043a0b8c818f5a06188bc2c4098f6cb59ca7d1856df00375d839251';

/** The lab's values: every default equals what the lab's README shows. */
export const DEFAULT_LAB_CONFIG: LabConfig = {
  clusterName: 'ipv6-lab',
  workers: 2,
  kindNodeImage: KIND_NODE_IMAGE,
  pools: {
    ipv4: { cidr: '192.168.0.0/16', blockSize: 26, vxlanMode: 'CrossSubnet', ipipMode: 'Never', natOutgoing: true },
    ipv6: { cidr: 'fd00:10:244::/48', blockSize: 122, vxlanMode: 'Always', ipipMode: 'Never', natOutgoing: true },
  },
  serviceSubnets: { ipv4: '10.96.0.0/16', ipv6: 'fd00:10:96::/112' },
  multitool: {
    image: MULTITOOL_DEFAULT_IMAGE,
    port: 8080,
    servicePort: 80,
  },
};

/** Block sizes Calico IPAM accepts for each family. */
export const BLOCK_SIZE_RANGE: Record<IpFamily, readonly [number, number]> = { ipv4: [20, 32], ipv6: [116, 128] };

/** The widest service CIDR kube-apiserver 1.28 accepts: /12 for IPv4, /108 (20 bits of host space) for IPv6. */
export const WIDEST_SERVICE_PREFIX: Record<IpFamily, number> = { ipv4: 12, ipv6: 108 };

// name[:tag][@sha256:digest], lower-case repository as the OCI distribution spec requires.
const imageReference = {
  type: 'string',
  pattern: '^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$',
  description: 'an image reference such as "registry/name:tag" or "name@sha256:<64 hex>"',
};

const poolSchema = (family: IpFamily) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    cidr: { type: 'string' },
    blockSize: {
      type: 'integer',
      minimum: BLOCK_SIZE_RANGE[family][0],
      maximum: BLOCK_SIZE_RANGE[family][1],
      description: `${BLOCK_SIZE_RANGE[family][0]} to ${BLOCK_SIZE_RANGE[family][1]} for an ${FAMILY_NAME[family]} pool`,
    },
    vxlanMode: { enum: ENCAPSULATION_MODES },
    ipipMode: { enum: ENCAPSULATION_MODES },
    natOutgoing: { type: 'boolean' },
  },
});

const portSchema = { type: 'integer', minimum: 1, maximum: 65535 };

/** JSON schema of lab.config.yaml; every key is optional and falls back to DEFAULT_LAB_CONFIG. */
export const LAB_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    clusterName: {
      type: 'string',
      maxLength: 50,
      pattern: DNS1123_LABEL.source,
      description: "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
    },
    workers: { type: 'integer', minimum: 0, maximum: 10 },
    kindNodeImage: imageReference,
    pools: {
      type: 'object',
      additionalProperties: false,
      properties: { ipv4: poolSchema('ipv4'), ipv6: poolSchema('ipv6') },
    },
    serviceSubnets: {
      type: 'object',
      additionalProperties: false,
      properties: { ipv4: { type: 'string' }, ipv6: { type: 'string' } },
    },
    multitool: {
      type: 'object',
      additionalProperties: false,
      properties: {
        image: imageReference,
        port: portSchema,
        servicePort: portSchema,
      },
    },
  },
} as const;

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
 * Compiled on first use: loading and compiling ajv is a quarter of the synth app's start-up, and a
 * synth with no configuration file has nothing to check.
 */
function validateSchema(input: unknown): { valid: boolean; errors: ErrorObject[] } {
  if (!schemaValidator) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: Ajv } = require('ajv') as typeof import('ajv');
    schemaValidator = new Ajv({ allErrors: true, strict: true, verbose: true }).compile(LAB_CONFIG_SCHEMA);
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
      const s = e.parentSchema as { minimum: number; maximum: number; description?: string };
      return { path: where, message: `got ${got}; allowed: ${s.description ?? `an integer from ${s.minimum} to ${s.maximum}`}` };
    }
    case 'pattern':
      return { path: where, message: `got ${got}; allowed: ${(e.parentSchema as { description: string }).description}` };
    case 'maxLength':
      return { path: where, message: `got ${got}; allowed: at most ${(e.params as { limit: number }).limit} characters` };
    default:
      return { path: where, message: `got ${got}; ${e.message}` };
  }
}

/** Fills the keys the user left out with the lab's defaults. */
export function withDefaults(input: LabConfigInput): LabConfig {
  const d = DEFAULT_LAB_CONFIG;
  return {
    clusterName: input.clusterName ?? d.clusterName,
    workers: input.workers ?? d.workers,
    kindNodeImage: input.kindNodeImage ?? d.kindNodeImage,
    pools: {
      ipv4: { ...d.pools.ipv4, ...input.pools?.ipv4 },
      ipv6: { ...d.pools.ipv6, ...input.pools?.ipv6 },
    },
    serviceSubnets: { ...d.serviceSubnets, ...input.serviceSubnets },
    multitool: { ...d.multitool, ...input.multitool },
  };
}

/** A CIDR parsed and checked: family, canonical network address, prefix length. */
export interface ParsedCidr {
  readonly family: IpFamily;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
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
    return `got ${show(value)}, which is not a valid CIDR; allowed: ${expected}`;
  }
  const [address, prefix] = parsed;
  const actual: IpFamily = address.kind() === 'ipv4' ? 'ipv4' : 'ipv6';
  if (actual !== family) {
    return `got ${show(value)}, an ${FAMILY_NAME[actual]} CIDR in the ${family} slot; allowed: ${expected}`;
  }
  const network = family === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(value)
    : ipaddr.IPv6.networkAddressFromCIDR(value);
  if (network.toString() !== address.toString()) {
    return `got ${show(value)}, which has host bits set; allowed: the network address ${network.toString()}/${prefix}`;
  }
  return { family, address, prefix };
}

function overlaps(a: ParsedCidr, b: ParsedCidr): boolean {
  if (a.family !== b.family) return false;
  return (a.address as ipaddr.IPv4).match(b.address as ipaddr.IPv4, b.prefix)
    || (b.address as ipaddr.IPv4).match(a.address as ipaddr.IPv4, a.prefix);
}

/** Checks what a schema cannot: CIDR syntax and family, block sizes, overlaps, service range sizes, encapsulation. */
export function checkSemantics(config: LabConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ranges: Array<{ path: string; cidr: ParsedCidr }> = [];

  for (const family of IP_FAMILIES) {
    const pool = config.pools[family];
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

  for (const family of IP_FAMILIES) {
    const at = `serviceSubnets.${family}`;
    const cidr = parseCidr(config.serviceSubnets[family], family);
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

  return problems;
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
  const config = withDefaults(input as LabConfigInput);
  const problems = checkSemantics(config);
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

/**
 * Loading and validating lab.config.yaml: YAML parsing, the JSON Schema (lib/config-schema.ts) through
 * ajv, then the CIDR checks a schema cannot express. The constructs never import this module.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { BLOCK_SIZE_RANGE, IP_FAMILIES, ParsedCidr, WIDEST_SERVICE_PREFIX, containsAddress, overlaps, parseAddress, parseCidr } from './cidr';
import { ALLOWED_KEYWORD, DEFAULT_LAB_CONFIG, LabConfig, LabConfigInput, labConfigSchema } from './config-schema';

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
    policy: input.policy ?? d.policy,
    externalHost: { ...d.externalHost, ...input.externalHost },
  };
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

  problems.push(...checkExternalHost(config, ranges));
  return problems;
}

/**
 * The external host's addresses: one host address of the right family each, outside every pool and
 * Service range (a packet to it would otherwise be routed into the cluster, not to the host).
 */
function checkExternalHost(config: LabConfig, ranges: ReadonlyArray<{ path: string; cidr: ParsedCidr }>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const family of IP_FAMILIES) {
    const at = `externalHost.${family}`;
    const address = parseAddress(config.externalHost[family], family);
    if (typeof address === 'string') {
      problems.push({ path: at, message: address });
      continue;
    }
    for (const range of ranges) {
      if (containsAddress(range.cidr, address)) {
        problems.push({
          path: at,
          message: `got ${show(config.externalHost[family])}, inside ${range.path} (${show(valueAtPath(config, range.path))}): the pods would route it into the cluster, not to the external host; allowed: an address outside the pools and Service ranges, on kind's Docker network`,
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

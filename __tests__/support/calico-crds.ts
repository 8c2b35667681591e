/**
 * The Calico v3.28.5 CRDs, for validating what we emit: from CALICO_CRDS_DIR (default
 * ../shared/calico/v3.28.5/crds beside the repo, as scripts/import-crds.sh and the e2e suite use), else
 * from a cache outside the repo, else downloaded once from the URLs pinned in cdk8s.yaml.
 * Loaded synchronously: jest decides at collection time whether a suite runs or is reported skipped.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { REPO_ROOT } from './synth';

export const CRD_URLS: string[] = (parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk8s.yaml'), 'utf8')).imports as string[])
  .map(spec => spec.replace(/^[^:]+:=/, ''));

const cacheDir = () => path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'calico-ipv6-lab', 'crds',
  /\/(v\d+\.\d+\.\d+)\//.exec(CRD_URLS[0])![1]);

/** The one default, shared with scripts/import-crds.sh, scripts/e2e/run.sh and .ci/run. */
export const DEFAULT_CALICO_CRDS_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'calico', 'v3.28.5', 'crds');

export function calicoCrdsDir(): string {
  return process.env.CALICO_CRDS_DIR || DEFAULT_CALICO_CRDS_DIR;
}

function readCrdText(url: string): string {
  const file = path.basename(url);
  const dir = calicoCrdsDir();
  if (process.env.CALICO_CRDS_DIR || fs.existsSync(dir)) {
    // A directory named (or present) must hold every file: a partial one is an error, not a download.
    return fs.readFileSync(path.join(dir, file), 'utf8');
  }
  const cached = path.join(cacheDir(), file);
  if (fs.existsSync(cached)) {
    return fs.readFileSync(cached, 'utf8');
  }
  const script = `fetch(process.argv[1], { signal: AbortSignal.timeout(20000) })
    .then(r => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
    .then(t => process.stdout.write(t), e => { process.stderr.write(String(e.cause ?? e.message)); process.exit(1); });`;
  const res = spawnSync(process.execPath, ['-e', script, url], { encoding: 'utf8', timeout: 30000, maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${dir} does not exist and GET ${url} failed: ${(res.stderr || res.error?.message || 'timeout').trim()}`);
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.writeFileSync(cached, res.stdout);
  return res.stdout;
}

/** The Calico release deploy.sh installs, e.g. `v3.28.5`. */
export const CALICO_VERSION = /^CALICO_VERSION=(v\d+\.\d+\.\d+)$/m.exec(fs.readFileSync(path.join(REPO_ROOT, 'deploy.sh'), 'utf8'))![1];

/**
 * The text of Calico's tigera-operator.yaml for CALICO_VERSION: beside CALICO_CRDS_DIR when that is the
 * reference layout (`<version>/crds` next to `<version>/tigera-operator.yaml`), else downloaded once.
 */
export async function readTigeraOperatorManifest(): Promise<string> {
  const local = path.join(calicoCrdsDir(), '..', 'tigera-operator.yaml');
  if (fs.existsSync(local)) return fs.readFileSync(local, 'utf8');
  const url = `https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/tigera-operator.yaml`;
  const cached = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'calico-ipv6-lab', 'calico', CALICO_VERSION, 'tigera-operator.yaml');
  if (fs.existsSync(cached)) return fs.readFileSync(cached, 'utf8');
  const res = await fetch(url, { signal: AbortSignal.timeout(30000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const text = await res.text();
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.writeFileSync(cached, text);
  return text;
}

/**
 * Kubernetes prunes unknown fields of structural schemas; `kubectl apply --validate=strict` rejects them.
 * Validate as strictly: objects with declared properties allow no others, unless they preserve unknown fields.
 */
export function strictSchema(schema: any): any {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  if (schema['x-kubernetes-int-or-string']) {
    return { anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  const out: any = { ...schema };
  const mapOf = (m: Record<string, any>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, strictSchema(v)]));
  if (out.properties) out.properties = mapOf(out.properties);
  if (out.definitions) out.definitions = mapOf(out.definitions);
  if (out.items) out.items = strictSchema(out.items);
  if (typeof out.additionalProperties === 'object') out.additionalProperties = strictSchema(out.additionalProperties);
  for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(out[k])) out[k] = out[k].map(strictSchema);
  if (out.not) out.not = strictSchema(out.not);
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields'] && (out.type === 'object' || out.type === undefined)) {
    out.additionalProperties = false;
  }
  return out;
}

export interface CrdValidator {
  /** `group/Kind` */
  key: string;
  apiVersion: string;
  validate: ValidateFunction;
}

/** The pinned CRDs' validators, or why they could not be had (the caller skips or fails, see describeWhen). */
export function loadCrdValidators(): { validators?: Map<string, CrdValidator>; missing?: string } {
  let texts: string[];
  try {
    texts = CRD_URLS.map(readCrdText);
  } catch (e) {
    return { missing: `the Calico CRDs (${(e as Error).message}; set CALICO_CRDS_DIR to a directory holding them)` };
  }
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validators = new Map<string, CrdValidator>();
  for (const text of texts) {
    const crd = parse(text);
    for (const version of crd.spec.versions) {
      const apiVersion = `${crd.spec.group}/${version.name}`;
      validators.set(`${apiVersion}/${crd.spec.names.kind}`, {
        key: `${crd.spec.group}/${crd.spec.names.kind}`,
        apiVersion,
        validate: ajv.compile(strictSchema(version.schema.openAPIV3Schema)),
      });
    }
  }
  return { validators };
}

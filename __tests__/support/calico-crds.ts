/**
 * The Calico v3.28.5 CRDs, for validating what we emit: from CALICO_CRDS_DIR when set (CI, air-gapped
 * machines), else downloaded once from the URLs pinned in cdk8s.yaml into a cache outside the repo.
 */
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

async function readCrdText(url: string): Promise<string> {
  const file = path.basename(url);
  const dir = process.env.CALICO_CRDS_DIR;
  if (dir) {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  }
  const cached = path.join(cacheDir(), file);
  if (fs.existsSync(cached)) {
    return fs.readFileSync(cached, 'utf8');
  }
  const res = await fetch(url, { signal: AbortSignal.timeout(20000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const text = await res.text();
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  fs.writeFileSync(cached, text);
  return text;
}

/** The Calico release deploy.sh installs, e.g. `v3.28.5`. */
export const CALICO_VERSION = /^CALICO_VERSION=(v\d+\.\d+\.\d+)$/m.exec(fs.readFileSync(path.join(REPO_ROOT, 'deploy.sh'), 'utf8'))![1];

/**
 * The text of Calico's tigera-operator.yaml for CALICO_VERSION: beside CALICO_CRDS_DIR when that is the
 * reference layout (`<version>/crds` next to `<version>/tigera-operator.yaml`), else downloaded once.
 */
export async function readTigeraOperatorManifest(): Promise<string> {
  const dir = process.env.CALICO_CRDS_DIR;
  const local = dir && path.join(dir, '..', 'tigera-operator.yaml');
  if (local && fs.existsSync(local)) return fs.readFileSync(local, 'utf8');
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

/** Loads the pinned CRDs; resolves to undefined (after saying so loudly) when they cannot be had outside CI. */
export async function loadCrdValidators(): Promise<Map<string, CrdValidator> | undefined> {
  let texts: string[];
  try {
    texts = await Promise.all(CRD_URLS.map(readCrdText));
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`CI=true but the Calico CRDs could not be read: ${(e as Error).message}`);
    // eslint-disable-next-line no-console
    console.warn(`\n*** SKIPPED: Calico CRDs unavailable (${(e as Error).message}). Set CALICO_CRDS_DIR to a directory holding them. ***\n`);
    return undefined;
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
  return validators;
}

/**
 * Kubernetes' own OpenAPI (swagger 2.0) spec of v1.28.15, `api/openapi-spec/swagger.json` of the
 * k8s.io/kubernetes source, taken from the Go module proxy (the same module the e2e suite builds
 * kube-apiserver from) or from KUBE_OPENAPI_SPEC. Validation goes through ajv.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { strictSchema } from './calico-crds';

export const KUBERNETES_VERSION = 'v1.28.15';

function locateSpec(): string {
  if (process.env.KUBE_OPENAPI_SPEC) return process.env.KUBE_OPENAPI_SPEC;
  // The official tarball's go is not on every shell's PATH (scripts/lib/common.sh go_command does the same).
  const go = process.env.GO || (fs.existsSync('/usr/local/go/bin/go') && !whichGo() ? '/usr/local/go/bin/go' : 'go');
  const out = execFileSync(go, ['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`], {
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300000,
  });
  return path.join(JSON.parse(out).Dir, 'api', 'openapi-spec', 'swagger.json');
}

function whichGo(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some(d => d && fs.existsSync(path.join(d, 'go')));
}

export type KubeValidator = (obj: { apiVersion: string; kind: string }) => string[];

/** A validator for built-in objects, or why the spec could not be had (the caller skips or fails, see describeWhen). */
export function loadKubeValidator(): { validate?: KubeValidator; missing?: string } {
  let spec: any;
  try {
    spec = JSON.parse(fs.readFileSync(locateSpec(), 'utf8'));
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    return { missing: `the Kubernetes ${KUBERNETES_VERSION} OpenAPI spec (${why}; needs \`go\` and the Go module proxy, or KUBE_OPENAPI_SPEC)` };
  }
  const { definitions } = strictSchema({ definitions: spec.definitions });
  // swagger's IntOrString is {type: string, format: int-or-string}; JSON carries either form.
  definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = { anyOf: [{ type: 'integer' }, { type: 'string' }] };
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'k8s', definitions });
  const byGvk = new Map<string, string>();
  for (const [name, def] of Object.entries<any>(spec.definitions)) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      byGvk.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, name);
    }
  }
  const compiled = new Map<string, ValidateFunction>();
  return { validate: obj => {
    const key = `${obj.apiVersion}/${obj.kind}`;
    const name = byGvk.get(key);
    if (!name) return [`no Kubernetes ${KUBERNETES_VERSION} definition for ${key}`];
    if (!compiled.has(name)) compiled.set(name, ajv.compile({ $ref: `k8s#/definitions/${name}` }));
    const validate = compiled.get(name)!;
    return validate(obj) ? [] : validate.errors!.map(e => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  } };
}

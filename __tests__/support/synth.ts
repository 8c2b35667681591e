import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_LAB_CONFIG, LabConfig, LabConfigInput } from '../../lib/config-schema';
import { resolveLabConfig } from '../../lib/lab-config';
import { renderLab } from '../../lib/synth';
import { mkTmp } from './tmp';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: any;
}

export interface RenderedLab {
  /** where it was rendered: a temp dir removed after the test file (see support/tmp.ts) */
  dir: string;
  /** file name (relative to dir) -> raw text */
  files: Record<string, string>;
  /** every Kubernetes object of the top-level manifests, in file then document order */
  objects: K8sObject[];
  /** the objects of policy/ (the policy lesson, `policy: on`), in file then document order */
  policyObjects: K8sObject[];
  kind: any;
}

export { mkTmp };

/** Renders the whole lab (as `cdk8s synth` does) into a temp dir (removed after the test file) and parses it. */
export function renderLabFor(input: LabConfigInput = {}): RenderedLab {
  const config: LabConfig = Object.keys(input).length ? resolveLabConfig(input) : DEFAULT_LAB_CONFIG;
  const dir = mkTmp('render');
  const names = renderLab(config, dir);
  const files = Object.fromEntries(names.map(n => [n, fs.readFileSync(path.join(dir, n), 'utf8')]));
  const manifests = names.filter(n => !n.includes(path.sep) && n.endsWith('.yaml'));
  const objects = manifests.flatMap(n => parseAllDocuments(files[n]).map(d => d.toJS() as K8sObject));
  const policyFiles = names.filter(n => path.dirname(n) === 'policy' && n.endsWith('.yaml'));
  const policyObjects = policyFiles.flatMap(n => parseAllDocuments(files[n]).map(d => d.toJS() as K8sObject));
  const kind = parseAllDocuments(files[path.join('kind', 'cluster.yaml')])[0].toJS();
  return { dir, files, objects, policyObjects, kind };
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find(o => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map(o => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** Tools a test needs from the system: outside CI a missing one skips loudly, in CI it fails. */
export function requireTool(available: boolean, what: string): boolean {
  if (available) return true;
  if (process.env.CI === 'true') {
    throw new Error(`CI=true but ${what} is not available; .ci/run must install it`);
  }
  // eslint-disable-next-line no-console
  console.warn(`\n*** SKIPPED: ${what} is not available on this machine. CI runs this test. ***\n`);
  return false;
}

/**
 * `describe` when what a suite needs is there. Otherwise, outside CI: `describe.skip`, so jest reports
 * the tests as skipped, and a loud warning; with CI=true: one failing test that says what is missing.
 */
export function describeWhen(missing: string | undefined): jest.Describe {
  if (!missing) return describe;
  if (process.env.CI === 'true') {
    const failing = ((name: string) => describe(name, () => {
      test('has what it needs', () => {
        throw new Error(`CI=true but this suite cannot run: ${missing} is not available; .ci/run must provide it`);
      });
    })) as unknown as jest.Describe;
    return failing;
  }
  // eslint-disable-next-line no-console
  console.warn(`\n*** SKIPPED: ${missing} is not available on this machine; CI runs these tests. ***\n`);
  return describe.skip;
}

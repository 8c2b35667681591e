import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_LAB_CONFIG } from '../lib/lab-config';
import { MULTITOOL_DEFAULT_IMAGE } from '../lib/multitool';
import { publish, renderLab } from '../lib/synth';
import { mkTmp, REPO_ROOT } from './support/synth';

/** Every file under dir (relative path -> sha256), to compare trees byte for byte. */
function snapshotTree(dir: string): Record<string, string> {
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile())
    .map(e => path.join(e.parentPath, e.name))
    .map(f => [path.relative(dir, f), createHash('sha256').update(fs.readFileSync(f)).digest('hex')] as [string, string])
    .sort(([a], [b]) => a.localeCompare(b)));
}

/** A throwaway copy of the project (sharing node_modules) to run the real CLI in. */
function projectCopy(): string {
  const dir = mkTmp('project');
  for (const entry of ['cdk8s.yaml', 'main.ts', 'tsconfig.json', 'package.json', 'lib', 'imports', path.join('scripts', 'swc-register.js')]) {
    fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function run(cwd: string, command: string, args: string[]) {
  const res = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', LAB_CONFIG: '', npm_config_update_notifier: 'false' },
    timeout: 120000,
  });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('synth', () => {
  test('is deterministic: two renders are byte-identical', () => {
    const a = mkTmp('det-a');
    const b = mkTmp('det-b');
    renderLab(DEFAULT_LAB_CONFIG, a);
    renderLab(DEFAULT_LAB_CONFIG, b);
    expect(snapshotTree(a)).toEqual(snapshotTree(b));
    expect(Object.keys(snapshotTree(a))).toHaveLength(3);
  });

  test('the committed dist/ is what the app renders today', () => {
    const fresh = mkTmp('fresh');
    renderLab(DEFAULT_LAB_CONFIG, fresh);
    expect(snapshotTree(path.join(REPO_ROOT, 'dist'))).toEqual(snapshotTree(fresh));
  });

  test('publish replaces dist whole: files the new render lacks are gone, nothing is mixed', () => {
    const root = mkTmp('publish');
    const dist = path.join(root, 'dist');
    fs.mkdirSync(path.join(dist, 'kind'), { recursive: true });
    fs.writeFileSync(path.join(dist, 'stale.k8s.yaml'), 'old');
    fs.writeFileSync(path.join(dist, 'kind', 'cluster.yaml'), 'old');
    const staging = path.join(root, 'staging');
    renderLab(DEFAULT_LAB_CONFIG, staging);
    publish(staging, dist);
    expect(snapshotTree(dist)).toEqual(snapshotTree(staging));
    expect(fs.readdirSync(root).sort()).toEqual(['dist', 'staging']);
  });

  test('publish repairs a swap interrupted between its two renames', () => {
    const root = mkTmp('recover');
    const staging = path.join(root, 'staging');
    renderLab(DEFAULT_LAB_CONFIG, staging);
    fs.mkdirSync(path.join(root, '.dist-prev'));
    fs.writeFileSync(path.join(root, '.dist-prev', 'old.k8s.yaml'), 'old');
    publish(staging, path.join(root, 'dist'));
    expect(snapshotTree(path.join(root, 'dist'))).toEqual(snapshotTree(staging));
    expect(fs.existsSync(path.join(root, '.dist-prev'))).toBe(false);
  });

  describe('through the real CLI', () => {
    let project: string;
    let before: Record<string, string>;

    beforeAll(() => {
      project = projectCopy();
      const first = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
      expect(first.status).toBe(0);
      before = snapshotTree(path.join(project, 'dist'));
    });

    test('`cdk8s synth` renders into its staging dir and publishes dist/ with the kind config', () => {
      expect(Object.keys(before)).toEqual(['0000-calico.k8s.yaml', '0001-multitool.k8s.yaml', path.join('kind', 'cluster.yaml')]);
      expect(before).toEqual(snapshotTree(path.join(REPO_ROOT, 'dist')));
    });

    test.each([
      ['cdk8s synth', 'cdk8s', ['synth']],
      ['npm run synth', 'npm', ['run', '--silent', 'synth']],
    ])('a bad config through `%s` exits non-zero, says why, and leaves dist/ byte-identical', (_name, command, args) => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'pools:\n  ipv6:\n    cidr: 10.0.0.0/8\n    blockSize: 130\n');
      try {
        const bin = command === 'cdk8s' ? path.join(project, 'node_modules', '.bin', 'cdk8s') : command;
        const res = run(project, bin, args);
        expect(res.status).not.toBe(0);
        expect(res.output).toContain('invalid lab configuration in lab.config.yaml:');
        expect(res.output).toContain('pools.ipv6.blockSize: got 130; allowed: 116 to 128 for an IPv6 pool');
        expect(res.output).toContain('dist/ was left unchanged.');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });

    test('a YAML syntax error names the line and leaves dist/ byte-identical', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'workers: 2\npools: [\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).not.toBe(0);
        expect(res.output).toMatch(/line \d+, column \d+: YAML syntax error/);
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });

    // The app's transpile cache is keyed by content: an edited source must never synthesize stale output.
    test('an edited source file is picked up on the next synth', () => {
      const file = path.join(project, 'lib', 'multitool.ts');
      const original = fs.readFileSync(file, 'utf8');
      const edited = original.replace(`'${MULTITOOL_DEFAULT_IMAGE}'`, "'registry.example/multitool:edited'");
      expect(edited).not.toBe(original);
      fs.writeFileSync(file, edited);
      try {
        expect(run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']).status).toBe(0);
        expect(fs.readFileSync(path.join(project, 'dist', '0001-multitool.k8s.yaml'), 'utf8')).toContain('image: registry.example/multitool:edited');
      } finally {
        fs.writeFileSync(file, original);
      }
      expect(run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']).status).toBe(0);
      expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
    });

    test('a good config change replaces dist/ whole', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'clusterName: other-lab\nworkers: 1\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).toBe(0);
        const kind = fs.readFileSync(path.join(project, 'dist', 'kind', 'cluster.yaml'), 'utf8');
        expect(kind).toContain('name: other-lab');
        expect(kind.match(/role: worker/g)).toHaveLength(1);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });
  });
});

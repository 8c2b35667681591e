import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_LAB_CONFIG } from '../lib/config-schema';
import { MULTITOOL_DEFAULT_IMAGE } from '../lib/multitool';
import { parseAllDocuments } from 'yaml';
import { CUSTOM_DIST_DIR, isStdoutRun, publish, renderLab, resolveDistDir } from '../lib/synth';
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
  const env: NodeJS.ProcessEnv = { ...process.env, CDK8S_CHECK_UPGRADE: 'false', LAB_CONFIG: '', npm_config_update_notifier: 'false' };
  delete env.LAB_DIST_DIR;
  const res = spawnSync(command, args, { cwd, encoding: 'utf8', env, timeout: 120000 });
  return { status: res.status, output: `${res.stdout}${res.stderr}`, stdout: res.stdout, stderr: res.stderr };
}

describe('synth', () => {
  test('is deterministic: two renders are byte-identical', () => {
    const a = mkTmp('det-a');
    const b = mkTmp('det-b');
    renderLab(DEFAULT_LAB_CONFIG, a);
    renderLab(DEFAULT_LAB_CONFIG, b);
    expect(snapshotTree(a)).toEqual(snapshotTree(b));
    expect(Object.keys(snapshotTree(a))).toHaveLength(4);
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

  describe('where it publishes (shared with scripts/lib/common.sh lab_default_dist_dir)', () => {
    const dir = mkTmp('where');
    test.each([
      ['no config file', {}, false, 'dist'],
      ['LAB_CONFIG=/dev/null', { LAB_CONFIG: '/dev/null' }, true, 'dist'],
      ['./lab.config.yaml', {}, true, CUSTOM_DIST_DIR],
      ['LAB_CONFIG names a file', { LAB_CONFIG: '/x/lab.yaml' }, false, CUSTOM_DIST_DIR],
      ['LAB_DIST_DIR wins', { LAB_CONFIG: '/x/lab.yaml', LAB_DIST_DIR: '/y/dist' }, false, '/y/dist'],
    ])('%s', (_name, env, withFile, expected) => {
      const cwd = path.join(dir, String(Math.random()).slice(2));
      fs.mkdirSync(cwd);
      if (withFile) fs.writeFileSync(path.join(cwd, 'lab.config.yaml'), 'workers: 1\n');
      expect(resolveDistDir(env as NodeJS.ProcessEnv, cwd)).toBe(expected);
    });

    test('only the CLI\'s --stdout temp dir counts as a --stdout run', () => {
      expect(isStdoutRun(path.join(os.tmpdir(), 'cdk8s-AbC123'))).toBe(true);
      expect(isStdoutRun('.cdk8s.out')).toBe(false);
      expect(isStdoutRun(path.join(os.tmpdir(), 'other-AbC123'))).toBe(false);
      expect(isStdoutRun(undefined)).toBe(false);
    });
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

    test('`cdk8s synth` renders into its staging dir and publishes dist/ with the kind config and the facts', () => {
      expect(Object.keys(before)).toEqual(['0000-calico.k8s.yaml', '0001-multitool.k8s.yaml', path.join('kind', 'cluster.yaml'), path.join('lab', 'facts.json')]);
      const fresh = mkTmp('cli-fresh');
      renderLab(DEFAULT_LAB_CONFIG, fresh);
      expect(before).toEqual(snapshotTree(fresh));
    });

    // The CLI swallows the app's stdout: the publish line must reach the user on stderr.
    test('`cdk8s synth` says where the files went, where the user sees it', () => {
      const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
      expect(res.status).toBe(0);
      expect(res.stderr).toContain('Published 4 files to dist/: 0000-calico.k8s.yaml, 0001-multitool.k8s.yaml, kind/cluster.yaml, lab/facts.json');
      expect(res.stderr).not.toMatch(/warning/i);
    });

    test('special-purpose ranges and a pool too small for the nodes fail synth, one line per key, and leave dist/ and .lab/dist/ byte-identical', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'workers: 1\n');
      expect(run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']).status).toBe(0);
      const custom = snapshotTree(path.join(project, '.lab', 'dist'));
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), [
        'workers: 4',
        'pools:',
        '  ipv4: { cidr: 169.254.0.0/24, blockSize: 26 }',
        '  ipv6: { cidr: "fe80::/9" }',
        'serviceSubnets: { ipv4: 127.0.0.0/16, ipv6: "ff05::/112" }',
        '',
      ].join('\n'));
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).not.toBe(0);
        const problems = res.stderr.split('\n').filter(l => l.startsWith('  - '));
        expect(problems.map(p => p.slice(4, p.indexOf(': ')))).toEqual(['pools.ipv4.cidr', 'serviceSubnets.ipv4', 'pools.ipv6.cidr', 'serviceSubnets.ipv6', 'pools.ipv4.blockSize']);
        expect(res.stderr).toContain('pools.ipv4.cidr: got "169.254.0.0/24", which lies in 169.254.0.0/16, IPv4 link-local (RFC 3927)');
        expect(res.stderr).toContain('serviceSubnets.ipv4: got "127.0.0.0/16", which lies in 127.0.0.0/8, IPv4 loopback (RFC 1122)');
        expect(res.stderr).toContain('pools.ipv6.cidr: got "fe80::/9", which overlaps fe80::/10, IPv6 link-local (RFC 4291)');
        expect(res.stderr).toContain('serviceSubnets.ipv6: got "ff05::/112", which lies in ff00::/8, IPv6 multicast (RFC 4291)');
        expect(res.stderr).toContain('pools.ipv4.blockSize: got 26 for the pool 169.254.0.0/24: 4 blocks of /26 for 5 nodes (1 control plane + 4 workers)');
        expect(res.stderr).toContain('.lab/dist/ was left unchanged.');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
        expect(snapshotTree(path.join(project, '.lab', 'dist'))).toEqual(custom);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });

    test('a node image the lab was not made for warns on stderr and still publishes', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'kindNodeImage: kindest/node:v1.31.2\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).toBe(0);
        expect(res.stderr).toContain('warning: lab.config.yaml: kindNodeImage: "kindest/node:v1.31.2" runs Kubernetes 1.31; Calico v3.28 is tested against Kubernetes 1.27 to 1.30');
        expect(res.stderr).toContain('warning: lab.config.yaml: kindNodeImage: "kindest/node:v1.31.2" has no @sha256: digest');
        expect(res.stderr).toContain('Published 4 files to .lab/dist/');
        expect(fs.readFileSync(path.join(project, '.lab', 'dist', 'kind', 'cluster.yaml'), 'utf8')).toContain('image: kindest/node:v1.31.2\n');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });

    test('with a lab.config.yaml, synth publishes to .lab/dist/ and the committed dist/ stays byte-identical', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'clusterName: other-lab\nworkers: 3\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).toBe(0);
        expect(res.stderr).toContain('Published 4 files to .lab/dist/ (your lab configuration; the committed dist/ keeps the defaults)');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
        const kind = fs.readFileSync(path.join(project, '.lab', 'dist', 'kind', 'cluster.yaml'), 'utf8');
        expect(kind).toContain('name: other-lab');
        expect(kind.match(/role: worker/g)).toHaveLength(3);
        const facts = JSON.parse(fs.readFileSync(path.join(project, '.lab', 'dist', 'lab', 'facts.json'), 'utf8'));
        expect(facts.name).toBe('other-lab');
        expect(facts.cluster.nodes.map((n: { name: string }) => n.name)).toEqual(['other-lab-control-plane', 'other-lab-worker', 'other-lab-worker2', 'other-lab-worker3']);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
        fs.rmSync(path.join(project, '.lab'), { recursive: true, force: true });
      }
    });

    test('with routing: bgp, synth publishes the router\'s frr/ beside the manifests; --stdout says it leaves it out', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'routing: bgp\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).toBe(0);
        expect(res.stderr).toContain('Published 7 files to .lab/dist/ (your lab configuration; the committed dist/ keeps the defaults): '
          + '0000-calico.k8s.yaml, 0001-multitool.k8s.yaml, frr/daemons, frr/frr.conf, frr/vtysh.conf, kind/cluster.yaml, lab/facts.json');
        expect(fs.readFileSync(path.join(project, '.lab', 'dist', 'frr', 'frr.conf'), 'utf8')).toContain('router bgp 65000\n');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
        const stdout = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth', '--stdout']);
        expect(stdout.status).toBe(0);
        expect(stdout.stderr).toContain('the kind config, the router\'s frr/ and the lab\'s facts are not included.');
        expect(parseAllDocuments(stdout.stdout).map(d => d.toJS().kind)).toContain('BGPPeer');
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
        fs.rmSync(path.join(project, '.lab'), { recursive: true, force: true });
      }
    });

    test('`cdk8s synth --stdout` prints separated documents and touches neither dist/ nor .lab/dist/', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'multitool: { servicePort: 8081 }\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth', '--stdout']);
        expect(res.status).toBe(0);
        const docs = parseAllDocuments(res.stdout);
        expect(docs.every(d => d.errors.length === 0)).toBe(true);
        const objects = docs.map(d => d.toJS());
        expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
          'IPPool/default-ipv4-ippool', 'IPPool/default-ipv6-ippool', 'Installation/default', 'APIServer/default',
          'ConfigMap/multitool-nginx', 'DaemonSet/multitool', 'Service/multitool-dual-stack', 'Service/multitool-ipv6-only',
        ]);
        expect(objects.find(o => o.metadata.name === 'multitool-dual-stack').spec.ports[0].port).toBe(8081);
        expect(res.stderr).toContain('the kind config and the lab\'s facts are not included');
        expect(res.stdout).not.toContain('factsVersion');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
        expect(fs.existsSync(path.join(project, '.lab'))).toBe(false);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });

    // --stdout is what `kubectl apply -f dist` applies; the lesson's projectcalico.org/v3 policy would fail
    // there until the Calico API server runs, so it stays in policy/ and the message says so.
    test('`cdk8s synth --stdout` with policy: on prints the lab without policy/ and names what it left out', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'policy: on\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth', '--stdout']);
        expect(res.status).toBe(0);
        const kinds = parseAllDocuments(res.stdout).map(d => d.toJS()).map(o => `${o.apiVersion} ${o.kind}`);
        expect(kinds).toHaveLength(8);
        expect(kinds.filter(k => k.includes('NetworkPolicy'))).toEqual([]);
        expect(res.stderr).toContain('Nor is the policy lesson (policy/calico-policy, policy/network-policy)');
        expect(fs.existsSync(path.join(project, '.lab'))).toBe(false);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });

    test('`cdk8s synth` with policy: on publishes policy/ beside the lab and says so', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'policy: on\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).toBe(0);
        expect(res.stderr).toContain('Published 6 files to .lab/dist/ (your lab configuration; the committed dist/ keeps the defaults): 0000-calico.k8s.yaml, 0001-multitool.k8s.yaml, kind/cluster.yaml, lab/facts.json, policy/0000-calico-policy.k8s.yaml, policy/0001-network-policy.k8s.yaml');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
        fs.rmSync(path.join(project, '.lab'), { recursive: true, force: true });
      }
    });

    test.each([
      ['cdk8s synth', 'cdk8s', ['synth']],
      ['npm run synth', 'npm', ['run', '--silent', 'synth']],
    ])('a bad config through `%s` exits non-zero, says why, and leaves dist/ and .lab/dist/ byte-identical', (_name, command, args) => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'workers: 1\n');
      expect(run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']).status).toBe(0);
      const custom = snapshotTree(path.join(project, '.lab', 'dist'));
      expect(Object.keys(custom)).toHaveLength(4);
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'pools:\n  ipv6:\n    cidr: 10.0.0.0/8\n    blockSize: 130\n');
      try {
        const bin = command === 'cdk8s' ? path.join(project, 'node_modules', '.bin', 'cdk8s') : command;
        const res = run(project, bin, args);
        expect(res.status).not.toBe(0);
        expect(res.output).toContain('invalid lab configuration in lab.config.yaml:');
        expect(res.output).toContain('pools.ipv6.blockSize: got 130; allowed: 116 to 128 for an IPv6 pool');
        expect(res.output).toContain('.lab/dist/ was left unchanged.');
        expect(snapshotTree(path.join(project, 'dist'))).toEqual(before);
        expect(snapshotTree(path.join(project, '.lab', 'dist'))).toEqual(custom);
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

    test('a good config change replaces .lab/dist/ whole', () => {
      fs.writeFileSync(path.join(project, 'lab.config.yaml'), 'clusterName: other-lab\nworkers: 1\n');
      try {
        const res = run(project, path.join(project, 'node_modules', '.bin', 'cdk8s'), ['synth']);
        expect(res.status).toBe(0);
        const kind = fs.readFileSync(path.join(project, '.lab', 'dist', 'kind', 'cluster.yaml'), 'utf8');
        expect(kind).toContain('name: other-lab');
        expect(kind.match(/role: worker/g)).toHaveLength(1);
      } finally {
        fs.rmSync(path.join(project, 'lab.config.yaml'));
      }
    });
  });
});

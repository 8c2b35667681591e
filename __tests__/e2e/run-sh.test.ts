// Tests of scripts/e2e/run.sh's own plumbing with stub binaries: how it finds
// kubectl 1.28, that a missing binary fails in CI and skips loudly elsewhere, and
// its summary line. No API server is started here.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const RUN_SH = path.join(__dirname, '..', '..', 'scripts', 'e2e', 'run.sh');

let tmp: string;

function stub(file: string, output: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho '${output}'\n`, { mode: 0o755 });
}

/** Runs run.sh in a clean environment (no CI, no E2E_* from the caller). */
function run(env: Record<string, string>) {
  const res = spawnSync('bash', [RUN_SH], {
    encoding: 'utf8',
    env: {
      PATH: `${path.join(tmp, 'bin')}:${process.env.PATH}`,
      HOME: tmp,
      TMPDIR: tmp,
      E2E_MANIFEST_DIR: path.join(tmp, 'no-such-dist'),
      ...env,
    },
  });
  const lines = res.stdout.trim().split('\n');
  return { status: res.status, stdout: res.stdout, last: lines[lines.length - 1] };
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-run-sh-'));
  // What setup-envtest (or scripts/e2e/build-binaries.sh) leaves in KUBEBUILDER_ASSETS, minus kubectl.
  stub(path.join(tmp, 'assets', 'etcd'), 'etcd Version: 3.5.17');
  stub(path.join(tmp, 'assets', 'kube-apiserver'), 'Kubernetes v1.28.15');
  // The Cloud SDK layout: bin/kubectl -> sdk/bin/kubectl (newest), with sdk/bin/kubectl.1.28 beside it.
  stub(path.join(tmp, 'sdk', 'bin', 'kubectl'), 'Client Version: v1.33.1');
  stub(path.join(tmp, 'sdk', 'bin', 'kubectl.1.28'), 'Client Version: v1.28.15');
  fs.mkdirSync(path.join(tmp, 'bin'));
  fs.symlinkSync(path.join('..', 'sdk', 'bin', 'kubectl'), path.join(tmp, 'bin', 'kubectl'));
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('finds kubectl.1.28 beside the kubectl on PATH, after resolving the symlink', () => {
  const res = run({ KUBEBUILDER_ASSETS: path.join(tmp, 'assets') });
  expect(res.stdout).toContain(`PASS ✔ kubectl is 1.28: ${path.join(tmp, 'sdk', 'bin', 'kubectl.1.28')}`);
  expect(res.stdout).toContain(`PASS ✔ kube-apiserver is 1.28: ${path.join(tmp, 'assets', 'kube-apiserver')}`);
  // The manifest dir is missing: a failed check, and the summary says so.
  expect(res.stdout).toMatch(/FAIL ✘ manifest dir .*no-such-dist exists/);
  expect(res.last).toBe('2 passed, 1 failed');
  expect(res.status).not.toBe(0);
});

test('E2E_KUBECTL wins, and a kubectl of another minor is a failure', () => {
  const res = run({ KUBEBUILDER_ASSETS: path.join(tmp, 'assets'), E2E_KUBECTL: path.join(tmp, 'sdk', 'bin', 'kubectl') });
  expect(res.stdout).toContain("FAIL ✘ kubectl is 1.28: " + path.join(tmp, 'sdk', 'bin', 'kubectl') + " reports minor '33'");
  expect(res.status).not.toBe(0);
});

test('a kube-apiserver of another minor is a failure', () => {
  stub(path.join(tmp, 'assets', 'kube-apiserver'), 'Kubernetes v1.31.0');
  const res = run({ KUBEBUILDER_ASSETS: path.join(tmp, 'assets') });
  expect(res.stdout).toMatch(/FAIL ✘ kube-apiserver is 1\.28: .* reports 'Kubernetes v1\.31\.0'/);
  expect(res.status).not.toBe(0);
});

test('with CI=true a missing binary is a failure, never a skip', () => {
  const res = run({ CI: 'true', KUBEBUILDER_ASSETS: path.join(tmp, 'assets'), E2E_KUBECTL: path.join(tmp, 'nope') });
  expect(res.stdout).toContain('FAIL ✘ kubectl 1.28 found');
  expect(res.stdout).not.toContain('SKIP');
  expect(res.last).toBe('0 passed, 1 failed');
  expect(res.status).toBe(1);
});

test('outside CI a missing binary skips loudly and exits 0', () => {
  const res = run({ E2E_KUBE_APISERVER: path.join(tmp, 'nope'), E2E_ETCD: path.join(tmp, 'assets', 'etcd') });
  expect(res.stdout).toMatch(/SKIP ⚠ kube-apiserver not found: skipping the e2e suite/);
  expect(res.last).toBe('0 passed, 0 failed');
  expect(res.status).toBe(0);
});

describe('the tigera-operator manifest (deploy.sh step 4, applied before dist/)', () => {
  const REPO = path.join(__dirname, '..', '..');
  const PIN = '69159fe3450ff0cf8b6db29e2b011a287ed5d8de341e81812c98aae69d3e51b5';
  const inputs = () => ({
    KUBEBUILDER_ASSETS: path.join(tmp, 'assets'),
    E2E_MANIFEST_DIR: path.join(REPO, 'dist'),
    CALICO_CRDS_DIR: tmp,
  });

  test('with CI=true a missing manifest is a failure', () => {
    const res = run({ ...inputs(), CI: 'true', E2E_TIGERA_OPERATOR_MANIFEST: path.join(tmp, 'nope.yaml') });
    expect(res.stdout).toContain(`FAIL ✘ tigera-operator manifest ${path.join(tmp, 'nope.yaml')} found`);
    expect(res.stdout).not.toContain('SKIP');
    expect(res.status).toBe(1);
  });

  test('outside CI a missing manifest is skipped loudly, saying what is not proven', () => {
    const res = run({ ...inputs(), E2E_TIGERA_OPERATOR_MANIFEST: path.join(tmp, 'nope.yaml') });
    expect(res.stdout).toContain("SKIP ⚠ tigera-operator manifest " + path.join(tmp, 'nope.yaml') + " not found: deploy's step 4 is NOT proven");
  });

  test('a manifest whose sha256 is not deploy.sh\'s pin fails before any server starts', () => {
    const tampered = path.join(tmp, 'tigera-operator.yaml');
    fs.writeFileSync(tampered, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tigera-operator\n');
    const res = run({ ...inputs(), E2E_TIGERA_OPERATOR_MANIFEST: tampered });
    expect(res.stdout).toContain("FAIL ✘ tigera-operator manifest sha256 is deploy.sh's pin");
    expect(res.stdout).toContain(`expected ${PIN}, got `);
    expect(res.stdout).not.toContain('etcd healthy');
    expect(res.status).toBe(1);
  });

  test('the pin run.sh reads is deploy.sh\'s', () => {
    const lib = fs.readFileSync(path.join(REPO, 'scripts', 'lib', 'preflight.sh'), 'utf8');
    expect(lib).toContain(`\nLAB_TIGERA_OPERATOR_PINNED_SHA256=${PIN}\n`);
  });
});

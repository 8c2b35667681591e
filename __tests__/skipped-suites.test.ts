// Suites whose inputs are missing must be reported as skipped (outside CI) or failed (CI=true), never
// as passed: run the two schema suites in a child jest without their inputs and read its JSON report.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { REPO_ROOT } from './support/synth';

function jestWithoutInputs(ci: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, CALICO_CRDS_DIR: '/nonexistent/crds', KUBE_OPENAPI_SPEC: '/nonexistent/swagger.json' };
  delete env.CI;
  if (ci) env.CI = 'true';
  const res = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', '--ci',
    '__tests__/calico-crd-schema.test.ts', '__tests__/k8s-schema.test.ts'], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 120000 });
  return { report: JSON.parse(res.stdout), stderr: res.stderr };
}

describe('schema suites without their inputs', () => {
  test('are skipped, loudly, outside CI', () => {
    const { report, stderr } = jestWithoutInputs(false);
    expect(report.numPendingTests).toBe(18);
    expect(report.numFailedTests).toBe(0);
    expect(report.numPassedTests).toBe(3); // the three checks that need no schema
    expect(stderr).toContain('*** SKIPPED: the Calico CRDs');
    expect(stderr).toContain('*** SKIPPED: the Kubernetes v1.28.15 OpenAPI spec');
  });

  test('fail with CI=true, saying what is missing', () => {
    const { report } = jestWithoutInputs(true);
    expect(report.numFailedTests).toBe(3); // one per suite that needs a schema: two in calico-crd-schema
    const messages = report.testResults.flatMap((r: any) => r.assertionResults.flatMap((a: any) => a.failureMessages)).join('\n');
    expect(messages).toContain('CI=true but this suite cannot run: the Calico CRDs');
    expect(messages).toContain('CI=true but this suite cannot run: the Kubernetes v1.28.15 OpenAPI spec');
  });
});

/**
 * Temp dirs for tests, removed after each test file (see __tests__/support/cleanup.ts, a jest
 * setupFilesAfterEnv file): a test run leaves the system temp dir as it found it, and CI checks that.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AppProps, Testing } from 'cdk8s';

const made: string[] = [];

/** A fresh directory under the system temp dir, named calico-ipv6-lab-<prefix>-XXXXXX, removed after the test file. */
export function mkTmp(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `calico-ipv6-lab-${prefix}-`));
  made.push(dir);
  return dir;
}

/**
 * `Testing.app()` with an outdir that is removed after the test file. cdk8s's own `Testing.app()` makes
 * a `cdk8s.outdir.*` dir in the temp dir for every call and never removes it.
 */
export function testApp(props: AppProps = {}): App {
  return Testing.app({ outdir: mkTmp('cdk8s-outdir'), ...props });
}

/** Removes every dir made through this module; called after each test file. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

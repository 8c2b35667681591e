import * as fs from 'fs';
import * as path from 'path';
import { App, YamlOutputType } from 'cdk8s';
import { KindClusterConfig } from './kind-cluster-config';
import { Lab, nameChartFilesById } from './lab';
import { LabConfig, LabConfigError, loadLabConfig } from './lab-config';

const distDirFromEnv = () => process.env.LAB_DIST_DIR ?? DEFAULT_DIST_DIR;

/** Where the app renders before publishing; `cdk8s.yaml` points the CLI's `output` here. */
export const DEFAULT_STAGING_DIR = '.cdk8s.out';
/** What `kubectl apply -f dist` reads; only ever replaced whole, never emptied by a failed synth. */
export const DEFAULT_DIST_DIR = 'dist';

export interface SynthOptions {
  /** The configuration; loaded from lab.config.yaml / LAB_CONFIG when absent. */
  readonly config?: LabConfig;
  /** Render directory (the CLI passes CDK8S_OUTDIR). */
  readonly stagingDir?: string;
  /** Published directory. */
  readonly distDir?: string;
}

/** Renders every chart and the kind config of the lab into `outdir` (which must be empty or absent). */
export function renderLab(config: LabConfig, outdir: string): string[] {
  const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  new Lab(app, 'lab', { config });
  app.synth();
  nameChartFilesById(app, outdir);
  for (const kind of KindClusterConfig.all(app)) {
    kind.writeTo(outdir);
  }
  return listFiles(outdir);
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile())
    .map(e => path.relative(dir, path.join(e.parentPath ?? (e as any).path, e.name)))
    .sort();
}

/**
 * Replaces `distDir` with a copy of `stagingDir` by two renames, so readers see either the old or the
 * new tree, never a mix. A swap interrupted between its renames is repaired on the next run.
 */
export function publish(stagingDir: string, distDir: string): void {
  const parent = path.dirname(path.resolve(distDir));
  const base = path.basename(distDir);
  const next = path.join(parent, `.${base}-next`);
  const prev = path.join(parent, `.${base}-prev`);
  recoverInterruptedSwap(distDir, prev);
  fs.rmSync(next, { recursive: true, force: true });
  fs.cpSync(stagingDir, next, { recursive: true });
  if (fs.existsSync(distDir)) {
    fs.renameSync(distDir, prev);
  }
  fs.renameSync(next, distDir);
  fs.rmSync(prev, { recursive: true, force: true });
}

function recoverInterruptedSwap(distDir: string, prev: string): void {
  if (!fs.existsSync(prev)) return;
  if (fs.existsSync(distDir)) {
    fs.rmSync(prev, { recursive: true, force: true });
  } else {
    fs.renameSync(prev, distDir);
  }
}

/**
 * Synthesizes the lab: validate the configuration, render into the staging directory, then publish
 * to dist/. Any failure before the publish leaves dist/ exactly as it was.
 */
export function synthesize(options: SynthOptions = {}): { files: string[]; distDir: string } {
  const stagingDir = options.stagingDir ?? process.env.CDK8S_OUTDIR ?? DEFAULT_STAGING_DIR;
  const distDir = options.distDir ?? distDirFromEnv();
  const config = options.config ?? loadLabConfig().config;
  const sameDir = path.resolve(stagingDir) === path.resolve(distDir);
  if (!sameDir) {
    fs.rmSync(stagingDir, { recursive: true, force: true });
  }
  const files = renderLab(config, stagingDir);
  if (!sameDir) {
    publish(stagingDir, distDir);
  }
  return { files, distDir };
}

/** Entry point of `cdk8s synth` (see main.ts): one line per problem and exit code 1 on failure. */
export function main(): void {
  try {
    const { files, distDir } = synthesize();
    console.log(`Published ${files.length} files to ${distDir}/: ${files.join(', ')}`);
  } catch (e) {
    const message = e instanceof LabConfigError ? e.message : `synth failed: ${(e as Error).message}`;
    console.error(`${message}\n${distDirFromEnv()}/ was left unchanged.`);
    process.exitCode = 1;
  }
}

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, YamlOutputType } from 'cdk8s';
import { FrrRouterConfig } from './frr-router-config';
import { KindClusterConfig } from './kind-cluster-config';
import { Lab, nameChartFilesById, placeChartFiles, subdirectoryCharts } from './lab';
import { TaygaConfig } from './tayga-config';
import type { LabConfig } from './config-schema';
import { DEFAULT_CONFIG_FILE, LabConfigError, configWarnings, formatWarnings, loadLabConfig } from './lab-config';

/** Where the app renders before publishing; `cdk8s.yaml` points the CLI's `output` here. */
export const DEFAULT_STAGING_DIR = '.cdk8s.out';
/** The committed lab defaults, what `kubectl apply -f dist` reads; only ever replaced whole. */
export const DEFAULT_DIST_DIR = 'dist';
/** Where a customized synth publishes (git-ignored), so a user's edits never rewrite the committed defaults. */
export const CUSTOM_DIST_DIR = path.join('.lab', 'dist');

/**
 * True when a lab configuration file is in effect: LAB_CONFIG names a file other than /dev/null, or
 * (LAB_CONFIG unset) ./lab.config.yaml exists. scripts/lib/common.sh's lab_default_dist_dir applies the same rule.
 */
export function configFileInEffect(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): boolean {
  if (env.LAB_CONFIG) return env.LAB_CONFIG !== '/dev/null';
  return fs.existsSync(path.resolve(cwd, DEFAULT_CONFIG_FILE));
}

/** The directory synth publishes to: LAB_DIST_DIR, else .lab/dist/ under a configuration file, else dist/. */
export function resolveDistDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.LAB_DIST_DIR) return env.LAB_DIST_DIR;
  return configFileInEffect(env, cwd) ? CUSTOM_DIST_DIR : DEFAULT_DIST_DIR;
}

/**
 * `cdk8s synth --stdout` runs the app with CDK8S_OUTDIR set to a fresh `$TMPDIR/cdk8s-XXXXXX` and then
 * pipes every *.yaml found there to stdout, file after file with no separator between them.
 */
export function isStdoutRun(outdir: string | undefined): boolean {
  if (!outdir) return false;
  const resolved = path.resolve(outdir);
  return path.basename(resolved).startsWith('cdk8s-') &&
    [os.tmpdir(), fs.realpathSync(os.tmpdir())].includes(path.dirname(resolved));
}

export interface SynthOptions {
  /** The configuration; loaded from lab.config.yaml / LAB_CONFIG when absent. */
  readonly config?: LabConfig;
  /** Render directory (the CLI passes CDK8S_OUTDIR). */
  readonly stagingDir?: string;
  /** Published directory. */
  readonly distDir?: string;
}

/**
 * Renders every chart, the kind config and the facts of the lab into `outdir` (which must be empty or
 * absent). A single-file render is what `kubectl apply -f dist` applies, for `kubectl apply -f -`: neither
 * the kind config, the router's frr/ and the facts (no Kubernetes manifests) nor the charts of a
 * subdirectory (the policy lesson's `policy/`, whose Calico API does not exist until Calico runs) are in
 * it; `omitted` names the charts left out.
 */
export function renderLab(config: LabConfig, outdir: string, options: { singleFile?: boolean } = {}): string[] {
  return renderLabWithReport(config, outdir, options).files;
}

export function renderLabWithReport(config: LabConfig, outdir: string, options: { singleFile?: boolean } = {}): { files: string[]; omitted: string[] } {
  const app = new App({ outdir, yamlOutputType: options.singleFile ? YamlOutputType.FILE_PER_APP : YamlOutputType.FILE_PER_CHART });
  new Lab(app, 'lab', { config });
  const omitted: string[] = [];
  if (options.singleFile) {
    for (const chart of subdirectoryCharts(app)) {
      omitted.push(`${(chart as unknown as { outputDirectory: string }).outputDirectory}/${chart.node.id}`);
      chart.node.scope!.node.tryRemoveChild(chart.node.id);
    }
  }
  app.synth();
  // The kind, router and tayga configs and the facts are no Kubernetes manifests: a single-file render is for `kubectl apply -f -`.
  if (!options.singleFile) {
    nameChartFilesById(app, outdir);
    placeChartFiles(app, outdir);
    for (const file of [...KindClusterConfig.all(app), ...FrrRouterConfig.all(app), ...TaygaConfig.all(app)]) {
      file.writeTo(outdir);
    }
    for (const lab of Lab.all(app)) {
      lab.writeFactsTo(outdir);
    }
  }
  return { files: listFiles(outdir), omitted };
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
  fs.mkdirSync(parent, { recursive: true });
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
  const distDir = options.distDir ?? resolveDistDir();
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

/**
 * Entry point of `cdk8s synth` (see main.ts): one line per problem and exit code 1 on failure. Writes to
 * stderr: the CLI swallows the app's stdout (and with --stdout, stdout is the manifests).
 */
export function main(): void {
  const distDir = resolveDistDir();
  try {
    const outdir = process.env.CDK8S_OUTDIR;
    const { config, source } = loadLabConfig();
    // Warnings name what the lab was not made for; unlike errors they don't stop the synth.
    formatWarnings(source, configWarnings(config)).forEach(line => console.error(line));
    if (isStdoutRun(outdir)) {
      // --stdout: one multi-document file, nothing published.
      fs.rmSync(outdir!, { recursive: true, force: true });
      const { omitted } = renderLabWithReport(config, outdir!, { singleFile: true });
      const router = [
        ...(config.routing === 'bgp' ? ['the router\'s frr/'] : []),
        ...(config.nat64 ? ['the NAT64\'s nat64/'] : []),
      ].map(what => `, ${what}`).join('');
      const lesson = omitted.length > 0
        ? ` Nor is the policy lesson (${omitted.join(', ')}): apply it with \`npm run synth\` and kubectl apply -f <dist>/policy/ once the Calico API server is Available (docs/policy.md).`
        : '';
      console.error(`cdk8s synth --stdout: the manifests only; ${distDir}/ was not touched and the kind config${router} and the lab's facts are not included.${lesson}`);
      return;
    }
    const { files } = synthesize({ distDir, config });
    const note = distDir === CUSTOM_DIST_DIR ? ` (your lab configuration; the committed ${DEFAULT_DIST_DIR}/ keeps the defaults)` : '';
    console.error(`Published ${files.length} files to ${distDir}/${note}: ${files.join(', ')}`);
  } catch (e) {
    const message = e instanceof LabConfigError ? e.message : `synth failed: ${(e as Error).message}`;
    console.error(`${message}\n${distDir}/ was left unchanged.`);
    process.exitCode = 1;
  }
}

#!/usr/bin/env node
/**
 * Benchmark of the commands users run most, side by side in one run on this machine:
 *   stock   `cdk8s synth` with cdk8s's stock app line `npx ts-node main.ts` (type-checks imports/ every time)
 *   synth   `npx cdk8s synth` as this project configures it (transpile-only ts-node on swc)
 *   test    `npm test`
 * Prints min / median / max per command and the stock/synth ratio. Measures, never asserts.
 *
 * Usage: npm run bench [-- --runs N] [-- --skip-test]
 */
const { spawnSync } = require('child_process');
const os = require('os');

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 7;
const skipTest = args.includes('--skip-test');
// The CLI's npm upgrade check costs a network round trip (or a failed one) on every run; it is not synthesis.
const env = { ...process.env, CDK8S_CHECK_UPGRADE: 'false' };
delete env.LAB_CONFIG;
if (require('fs').existsSync('lab.config.yaml')) {
  console.log('# note: lab.config.yaml exists, so these runs synthesize it, not the defaults');
}

function time(command) {
  const start = process.hrtime.bigint();
  const res = spawnSync(command, { shell: true, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(`'${command}' failed (${res.status}): ${res.stderr.slice(-2000)}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function measure(name, command, n) {
  time(command); // warm the page cache and npx's lookup
  const samples = Array.from({ length: n }, () => time(command)).sort((a, b) => a - b);
  const median = samples.length % 2 ? samples[(samples.length - 1) / 2] : (samples[samples.length / 2 - 1] + samples[samples.length / 2]) / 2;
  const row = { name, command, runs: n, min: samples[0], median, max: samples[samples.length - 1] };
  console.log(`${name.padEnd(6)} ${row.min.toFixed(2).padStart(6)} ${row.median.toFixed(2).padStart(7)} ${row.max.toFixed(2).padStart(6)}   ${n} runs  ${command}`);
  return row;
}

console.log(`# ${os.cpus().length} x ${os.cpus()[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
console.log('name      min  median    max   (seconds)');
const stock = measure('stock', 'npx cdk8s synth --app "npx ts-node main.ts"', Math.max(3, Math.ceil(runs / 2)));
const synth = measure('synth', 'npx cdk8s synth', runs);
const test = skipTest ? undefined : measure('test', 'npm test --silent', 3);
console.log('');
console.log(`synth vs stock: ${(stock.median / synth.median).toFixed(1)}x faster (median ${synth.median.toFixed(2)} s vs ${stock.median.toFixed(2)} s)`);
if (test) console.log(`npm test median: ${test.median.toFixed(1)} s`);

/**
 * generated-configs.ts - render a bounded sample of generated, valid lab configurations for
 * scripts/e2e/run.sh, which dry-runs each against the real kube-apiserver (strict validation).
 *
 * Usage: node -r ./scripts/swc-register.js scripts/e2e/generated-configs.ts OUT_DIR COUNT SEED
 *
 * The configurations come from the property suite's generator (__tests__/support/config-arbitrary.ts),
 * with a fixed seed; those lib/lab-config.ts refuses are skipped. Each is rendered as `cdk8s synth` renders
 * it into OUT_DIR/<n>/. Prints one line per configuration: "<dir>\t<what it sets>".
 */
import * as path from 'path';
import * as fc from 'fast-check';
import { LabConfigError, resolveLabConfig } from '../../lib/lab-config';
import { renderLab } from '../../lib/synth';
import { labConfigInput } from '../../__tests__/support/config-arbitrary';

function main(argv: string[]): number {
  const [outDir, countArg, seedArg] = argv;
  const count = Number(countArg);
  const seed = Number(seedArg);
  if (!outDir || !Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
    process.stderr.write('usage: generated-configs.ts OUT_DIR COUNT SEED\n');
    return 2;
  }
  // Configurations that change the pools first: the defaults' manifests are checked by run.sh already.
  const samples = fc.sample(labConfigInput(), { numRuns: count * 20, seed });
  const changesPools = (input: (typeof samples)[number]) => Boolean(input.pools?.ipv4?.cidr || input.pools?.ipv6?.cidr);
  const valid = [...samples.filter(changesPools), ...samples.filter(i => !changesPools(i))].flatMap(input => {
    try {
      return [resolveLabConfig(input, 'generated')];
    } catch (e) {
      if (e instanceof LabConfigError) return [];
      throw e;
    }
  }).slice(0, count);
  if (valid.length < count) {
    process.stderr.write(`only ${valid.length} of ${count * 20} generated configurations were valid\n`);
    return 1;
  }
  valid.forEach((config, i) => {
    const dir = path.join(outDir, String(i + 1).padStart(2, '0'));
    renderLab(config, dir);
    const { pools, serviceSubnets: s, multitool: m } = config;
    const what = [
      `workers ${config.workers}`,
      `pools ${pools.ipv4.cidr} /${pools.ipv4.blockSize} ${pools.ipv4.vxlanMode}/${pools.ipv4.ipipMode}, ${pools.ipv6.cidr} /${pools.ipv6.blockSize} ${pools.ipv6.vxlanMode}`,
      `services ${s.ipv4},${s.ipv6}`,
      `ports ${m.port}->${m.servicePort}`,
    ].join('; ');
    process.stdout.write(`${dir}\t${what}\n`);
  });
  return 0;
}

process.exitCode = main(process.argv.slice(2));

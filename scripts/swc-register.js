/**
 * Transpile-only TypeScript for `cdk8s synth` (see cdk8s.yaml): swc strips the types, nothing type-checks
 * (that is `npm run build`, which CI runs). ts-node --swc transpiles the same way but loads the TypeScript
 * compiler on every run just to read tsconfig.json: about 0.2 s of its 0.4 s on the lab's 2-core machines.
 */
const { addHook } = require('pirates');
const { transformSync } = require('@swc/core');

const options = {
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  swcrc: false,
  configFile: false,
};

addHook((code, filename) => transformSync(code, { ...options, filename }).code, { exts: ['.ts'], ignoreNodeModules: true });

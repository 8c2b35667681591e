/**
 * Transpile-only TypeScript for `cdk8s synth` (see cdk8s.yaml): swc strips the types, nothing type-checks
 * (that is `npm run build`, which CI runs). ts-node --swc transpiles the same way but loads the TypeScript
 * compiler on every run just to read tsconfig.json: about 0.2 s of its 0.4 s on the lab's 2-core machines.
 *
 * Output is cached by content in node_modules/.cache, so an unchanged file costs one read and swc itself
 * is loaded only when something changed.
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { addHook } = require('pirates');

const OPTIONS = {
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  swcrc: false,
  configFile: false,
};
const CACHE_DIR = path.join(__dirname, '..', 'node_modules', '.cache', 'swc-register');
const CACHE_SALT = JSON.stringify([OPTIONS, require('@swc/core/package.json').version]);

let swc;

function transform(code, filename) {
  const key = crypto.createHash('sha256').update(CACHE_SALT).update('\0').update(filename).update('\0').update(code).digest('hex');
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  swc ??= require('@swc/core');
  const output = swc.transformSync(code, { ...OPTIONS, filename }).code;
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, output);
    fs.renameSync(tmp, cached); // atomic: a concurrent synth reads a whole file or none
  } catch {
    // a read-only node_modules only costs the cache
  }
  return output;
}

addHook(transform, { exts: ['.ts'], ignoreNodeModules: true });

/** Unit and integration tests; @swc/jest strips types (type-checking is `npm run build`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/__tests__/e2e/'],
  // Temp dirs the tests make are removed after each file; a test run leaves the temp dir as it found it.
  setupFilesAfterEnv: ['<rootDir>/__tests__/support/cleanup.ts'],
  // Not jest's default ($TMPDIR/jest_*): the cache would outlive the run in the temp dir.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Tests that spawn the real cdk8s CLI or nginx take a few seconds on a loaded 2-core machine.
  testTimeout: 60000,
};

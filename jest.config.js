/** Tests run TypeScript through swc (no type-check: `tsc --noEmit` is its own step). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 60000,
  maxWorkers: 2,
  // Each embedded store is a PGlite WASM heap; a worker that has run many files is recycled before
  // the next one rather than left to run out of memory (it did, on CI, in a small unit test).
  workerIdleMemoryLimit: '1GB',
};

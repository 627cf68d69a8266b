/**
 * `npm run test:chaos`: fault-injection scenarios against real processes (kill -9, PostgreSQL
 * and Redis stopped and paused). Outside the default run: they take minutes and need
 * PostgreSQL binaries and redis-server. One file at a time, so faults do not overlap.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test-chaos'],
  testMatch: ['**/*.chaos.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 180000,
  maxWorkers: 1,
  // A scenario may leave a socket to a killed or paused process half-open; do not wait for it.
  forceExit: true,
};

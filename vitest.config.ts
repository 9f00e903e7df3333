import { defineConfig } from 'vitest/config';

// Three projects, one per kind of proof:
// - unit: pure logic and in-process components (no network but loopback, no provisioned binaries);
// - integration: a real MongoDB wire server (mongod or FerretDB) and real nginx, started per suite;
// - stack: the security suites against the running stack, driven through .stack/manifest.json.
export default defineConfig({
  test: {
    reporters: ['default', './tests/harness/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['server/test/unit/**/*.test.ts', 'nginx/verifier/test/**/*.test.ts', 'tests/compose/**/*.test.ts', 'tests/unit/**/*.test.ts', 'bench/**/*.test.ts', 'audit/test/**/*.test.ts'],
          testTimeout: 15_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['server/test/integration/**/*.test.ts', 'nginx/test/**/*.test.ts', 'tests/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'stack',
          include: ['tests/security/**/*.test.ts'],
          globalSetup: ['./tests/harness/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

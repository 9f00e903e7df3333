import { defineConfig } from 'vitest/config';

// Four projects, one per kind of proof:
// - unit: pure logic and in-process components (no network but loopback, no provisioned binaries, no root);
// - integration: a real MongoDB wire server (mongod or FerretDB), real nginx and network namespaces, per suite;
// - stack: the security suites against the running stack, driven through .stack/manifest.json;
// - compose: the compose deployment brought up live on a Docker engine (skips where none is reachable).
export default defineConfig({
  test: {
    reporters: ['default', './tests/harness/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'server/test/unit/**/*.test.ts',
            'nginx/verifier/test/**/*.test.ts',
            'tests/compose/**/*.test.ts',
            'tests/unit/**/*.test.ts',
            'bench/**/*.test.ts',
            'audit/test/**/*.test.ts',
          ],
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
          name: 'compose',
          include: ['tests/compose-live/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
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

import { defineConfig } from 'vitest/config';

// Unit tests are pure logic and fast. End-to-end tests (test/e2e, test/roles)
// start real hosts in containers, so they share one image build (globalSetup)
// and get generous timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/roles/**', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'e2e',
          // After the unit tests, with fewer workers: containers are the bottleneck.
          sequence: { groupOrder: 1 },
          include: ['test/e2e/**/*.test.ts', 'test/roles/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // The lab machines have two cores; containers are the bottleneck, not the controller.
          maxWorkers: 2,
          env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
        },
      },
    ],
  },
});

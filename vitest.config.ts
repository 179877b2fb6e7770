import { defineConfig } from 'vitest/config';

// Two groups, run one after the other: the suite in front of the shared test cluster, then the
// pod-churn simulation (six Redis pods in network namespaces, a minute of both cores), which
// would otherwise starve the suite's failover tests of CPU while their node timeouts run.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/churn/**', '**/node_modules/**'],
          globalSetup: ['test/helpers/global-setup.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'churn',
          include: ['test/churn/**/*.test.ts'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

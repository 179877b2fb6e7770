import { defineConfig } from 'vitest/config';

// Unit tests only need no cluster: same as vitest.config.ts without the globalSetup that starts one.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});

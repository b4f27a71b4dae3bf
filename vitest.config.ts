import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One PostgreSQL + one Redis for the whole run (see test/harness/global-setup.ts).
    globalSetup: ['./test/harness/global-setup.ts'],
    // The custom reporter prints the final "N passed, N failed" line.
    reporters: ['default', './test/harness/reporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

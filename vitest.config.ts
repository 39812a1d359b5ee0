import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The default report, then what was skipped on this machine for a missing tool or
    // privilege, and how to run it (test/helpers/needs.ts, skip-reporter.ts).
    reporters: ['default', './test/helpers/skip-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // The chaos run's own accounting (test/chaos/run.ts is the run itself: npm run test:chaos).
        test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'] },
      },
    ],
  },
});

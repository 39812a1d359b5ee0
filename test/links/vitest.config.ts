/**
 * The link tests (npm run test:links, docs/links.md): a real gateway behind a shaped
 * link in network namespaces. Needs root. Apart from the unit and interop projects:
 * they take minutes and own the namespaces they create; one file, run serially.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/links/**/*.test.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});

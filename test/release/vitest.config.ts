/**
 * Release checks, run on demand and by CI, apart from the unit and interop projects:
 *   npm run test:dist     the npm package built from dist/, installed production-only
 *                         and run with bare node (validate, demo, run against Mosquitto)
 *   npm run test:release  the arm64 release bundle in an arm64 Debian chroot (slow)
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/release/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});

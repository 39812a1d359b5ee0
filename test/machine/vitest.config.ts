/**
 * The machine test (npm run test:machine, docs/machine.md): a real Debian with systemd
 * as PID 1 under qemu (TCG), citygate installed from the card as a technician does,
 * against a TLS Mosquitto on the host. Needs root (debootstrap builds the cached base
 * image). One guest at a time: files run serially; each takes minutes.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/machine/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 3_000_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});

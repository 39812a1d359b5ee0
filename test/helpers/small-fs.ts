/**
 * A real, small file system for disk-full tests: a tmpfs of a few MiB mounted by the
 * test (CI runs as root). Unit tests check need(ctx, root(...)) first (a named skip,
 * a failure under CI); mounting without root fails saying so — never a silent skip.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './gateway-config.js';

export class SmallFs {
  readonly dir: string;
  private mounted = false;

  constructor(readonly bytes: number) {
    this.dir = join(tempDir('cg-smallfs-'), 'mnt');
  }

  mount(): this {
    if (process.getuid?.() !== 0) throw new Error('disk-full tests mount a tmpfs and need root (CI runs as root): run them as root, e.g. sudo npm test');
    mkdirSync(this.dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${this.bytes},mode=0755`, 'tmpfs', this.dir]);
    this.mounted = true;
    return this;
  }

  /** Remount read-only (or back to read-write). */
  remount(readOnly: boolean): void {
    execFileSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, this.dir]);
  }

  free(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /** Fill the file system up to the last byte with `name` (returns the bytes written). */
  fill(name = 'filler.bin'): number {
    const fd = openSync(join(this.dir, name), 'a');
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    try {
      for (let size = chunk.length; size >= 512; ) {
        try {
          written += writeSync(fd, chunk, 0, size);
        } catch {
          size = Math.floor(size / 2);
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  unfill(name = 'filler.bin'): void {
    rmSync(join(this.dir, name), { force: true });
  }

  write(name: string, data: string | Buffer): void {
    writeFileSync(join(this.dir, name), data);
  }

  unmount(): void {
    if (!this.mounted) return;
    try {
      execFileSync('umount', ['-l', this.dir]);
    } catch {
      // already gone
    }
    this.mounted = false;
  }
}

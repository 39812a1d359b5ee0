/**
 * A small real file system for the gateway's data_dir: a tmpfs the run mounts (root
 * only; CI runs as root) and fills with a filler file to make the disk full, then
 * frees. Unmounted at teardown.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class SmallDisk {
  readonly filler: string;
  mounted = false;

  constructor(readonly dir: string, readonly sizeMiB: number) {
    this.filler = join(dir, 'filler.bin');
  }

  mount(): void {
    if (process.getuid?.() !== 0) {
      throw new Error('the chaos run mounts a small tmpfs for the disk-full fault and needs root: run it as root (CI does), or with sudo');
    }
    mkdirSync(this.dir, { recursive: true });
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${this.sizeMiB}m,mode=0755`, 'tmpfs', this.dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount -t tmpfs on ${this.dir} failed: ${(r.stderr || r.error?.message || '').trim()}`);
    this.mounted = true;
  }

  /** Fill every free byte (big writes, then small ones until ENOSPC). Returns bytes written. */
  fill(): number {
    const fd = openSync(this.filler, 'a');
    const big = Buffer.alloc(1 << 20);
    const small = Buffer.alloc(4096);
    let written = 0;
    try {
      for (const chunk of [big, small]) {
        for (;;) {
          try {
            written += writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  free(): void {
    rmSync(this.filler, { force: true });
  }

  freeBytes(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  unmount(): void {
    if (!this.mounted) return;
    this.free();
    const r = spawnSync('umount', [this.dir], { encoding: 'utf8' });
    if (r.status !== 0) spawnSync('umount', ['-l', this.dir]);
    this.mounted = false;
  }
}

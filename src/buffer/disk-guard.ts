/**
 * Disk full is a state, not a crash (docs/field-notes.md#disk-full).
 *
 * - **Budget.** The buffer may use min(max_bytes, what it uses now + free space −
 *   a reserve for the rest of the system). Everything counts against it: database,
 *   WAL, shared memory, the ledger and the ballast below.
 * - **Ballast.** Small files of zeros are kept beside the database: `reserve.bin` for a
 *   running gateway, `reserve-open.bin` for opening the database on a full disk after a
 *   restart (the running one is spent by then).
 *   When a write fails for lack of space, it is deleted: that is the room SQLite needs
 *   to delete the oldest rows (a DELETE writes WAL frames too), to checkpoint, and to
 *   open the database at all on a full disk (the -shm file). It is put back when
 *   there is room again.
 * - **State** for health: `ok` (max_bytes fits), `low` (free space is what limits the
 *   buffer now), `full` (writes are failing).
 */
import { closeSync, fsyncSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DiskState } from '../core/payloads.js';

export const BALLAST_FILE = 'reserve.bin';
export const OPEN_RESERVE_FILE = 'reserve-open.bin';

export interface DiskGuardOptions {
  dataDir: string;
  maxBytes: number;
  /** Free space left alone for the rest of the system (default: 2 % of the file system, at most 16 MiB). */
  reserveBytes?: number;
  statfs?: (dir: string) => { free: number; total: number };
}

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));

export class DiskGuard {
  readonly ballastFile: string;
  /** Kept for opening the database on a full disk (see releaseForOpen). */
  readonly openReserveFile: string;
  readonly ballastBytes: number;
  private failing = false;
  private last: { free: number; total: number } | undefined;

  constructor(private readonly o: DiskGuardOptions) {
    this.ballastFile = join(o.dataDir, BALLAST_FILE);
    this.openReserveFile = join(o.dataDir, OPEN_RESERVE_FILE);
    // A sixteenth of max_bytes, 64 KiB to 2 MiB — and never more than 1/32 of a small
    // file system, or it would never fit beside the buffer at all.
    const total = this.fs()?.total;
    const cap = total === undefined ? 2 * 1024 * 1024 : Math.max(64 * 1024, Math.floor(total / 32));
    this.ballastBytes = Math.min(cap, clamp(Math.floor(o.maxBytes / 16), 64 * 1024, 2 * 1024 * 1024));
  }

  private fs(): { free: number; total: number } | undefined {
    try {
      if (this.o.statfs) return (this.last = this.o.statfs(this.o.dataDir));
      const s = statfsSync(this.o.dataDir);
      return (this.last = { free: s.bavail * s.bsize, total: s.blocks * s.bsize });
    } catch {
      return undefined;
    }
  }

  private reserve(total: number): number {
    return this.o.reserveBytes ?? Math.min(16 * 1024 * 1024, Math.floor(total * 0.02));
  }

  /** Bytes the buffer may use in all, given what its files use now. */
  budget(usedBytes: number): number {
    const fs = this.fs();
    if (!fs) return this.o.maxBytes;
    return Math.max(0, Math.min(this.o.maxBytes, usedBytes + fs.free - this.reserve(fs.total)));
  }

  /** Put the reserve files back where missing and there is room; never throws. */
  ensureBallast(): void {
    for (const file of [this.openReserveFile, this.ballastFile]) {
      if (this.has(file)) continue;
      const fs = this.fs();
      if (!fs || fs.free < this.ballastBytes * 2 + this.reserve(fs.total)) return;
      let fd: number | undefined;
      try {
        fd = openSync(file, 'w', 0o600);
        writeSync(fd, Buffer.alloc(this.ballastBytes));
        fsyncSync(fd);
      } catch {
        rmSync(file, { force: true });
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    }
  }

  /** Free the running reserve's room (a write failed). True if there was one to free. */
  releaseBallast(): boolean {
    if (!this.has(this.ballastFile)) return false;
    rmSync(this.ballastFile, { force: true });
    return true;
  }

  /**
   * Free room to open the database on a full disk (the -shm and WAL need some). A
   * second reserve is kept for this alone: the running one is usually spent by then.
   */
  releaseForOpen(): boolean {
    for (const file of [this.openReserveFile, this.ballastFile]) {
      if (!this.has(file)) continue;
      rmSync(file, { force: true });
      return true;
    }
    return false;
  }

  hasBallast(): boolean {
    return this.has(this.ballastFile);
  }

  private has(file: string): boolean {
    try {
      return statSync(file).size >= this.ballastBytes;
    } catch {
      return false;
    }
  }

  /** Writes are failing for lack of space (set by the buffer). */
  setFailing(failing: boolean): void {
    this.failing = failing;
  }

  state(usedBytes: number): DiskState {
    if (this.failing) return 'full';
    return this.budget(usedBytes) < this.o.maxBytes ? 'low' : 'ok';
  }

  freeBytes(): number | null {
    return (this.last ?? this.fs())?.free ?? null;
  }
}

/** SQLite and file-system errors that mean "no space left". */
export function isDiskFull(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_SHMSIZE' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC' || code === 'EDQUOT';
}

/**
 * For `validate` and `doctor`: a warning when `max_bytes` is more than the file system
 * holding `dataDir` (or its nearest existing parent) can give the buffer on this
 * machine, with what the running limit will be. Undefined when it fits, or when the
 * file system cannot be read.
 */
export function diskBudgetWarning(dataDir: string, maxBytes: number, statfs: (dir: string) => { free: number; total: number } = fsOf): string | undefined {
  let dir = dataDir;
  for (let i = 0; i < 64; i++) {
    let fs: { free: number; total: number } | undefined;
    try {
      fs = statfs(dir);
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
      continue;
    }
    const used = dir === dataDir ? bufferFilesBytes(dataDir) : 0;
    const reserve = Math.min(16 * 1024 * 1024, Math.floor(fs.total * 0.02));
    const room = Math.max(0, used + fs.free - reserve);
    if (maxBytes <= room) return undefined;
    return `buffer.max_bytes (${mib(maxBytes)}) is more than ${dir} can hold on this machine (${mib(fs.free)} free): the buffer will keep to about ${mib(room)} and drop the oldest readings beyond that (health: disk low) — lower max_bytes or free space`;
  }
  return undefined;
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

function fsOf(dir: string): { free: number; total: number } {
  const s = statfsSync(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

function bufferFilesBytes(dataDir: string): number {
  let n = 0;
  for (const f of ['buffer.db', 'buffer.db-wal', 'buffer.db-shm', 'seq.ledger', BALLAST_FILE, OPEN_RESERVE_FILE]) {
    try {
      n += statSync(join(dataDir, f)).size;
    } catch {
      // not there
    }
  }
  return n;
}

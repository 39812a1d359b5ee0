/**
 * How much room the buffer takes, and how much must go before a commit fits.
 *
 * Below `PHYSICAL_MIN`, `max_bytes` bounds the stored readings only (tests); at or
 * above, every file counts: pages in use, the WAL at its cap, -shm, the ledger and
 * the ballast. The disk's own budget (disk-guard.ts) bounds it too: when that budget
 * is below `max_bytes` and the files hit it, the reason is `disk_full`. Pure reads:
 * nothing here writes, so it is safe inside the commit's transaction.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { DiskGuard } from './disk-guard.js';
import { LEDGER_FILE } from './seq-ledger.js';
import type { Statements } from './row-store.js';

/** Below this, max_bytes bounds the stored readings only (tests); at or above, every file. */
const PHYSICAL_MIN = 1024 * 1024;

/** The WAL's cap: an eighth of max_bytes, within 256 KiB … 4 MiB. */
export function walCapFor(maxBytes: number): number {
  return Math.max(256 * 1024, Math.min(4 * 1024 * 1024, Math.floor(maxBytes / 8)));
}

/** The buffer's files on disk: database, WAL, shared memory, ledger, ballast. */
export function bufferFileBytes(file: string, dataDir: string, disk: DiskGuard): number {
  let n = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`, join(dataDir, LEDGER_FILE), disk.ballastFile, disk.openReserveFile]) {
    try {
      n += statSync(f).size;
    } catch {
      // not there
    }
  }
  return n;
}

export interface RoomInput {
  /** Logical bytes stored, as the transaction sees them so far. */
  stored: number;
  incoming: number;
  maxBytes: number;
  walCap: number;
  stmt: Statements;
  disk: DiskGuard;
  fileBytes: () => number;
}

/**
 * How many logical bytes must go before `incoming` fits (0: it fits), and which limit
 * bites: `max_bytes`, or the disk (free space is what limits the buffer now).
 */
export function overBy(i: RoomInput): { bytes: number; reason: 'max_bytes' | 'disk_full' } {
  const logical = i.stored + i.incoming - i.maxBytes;
  if (i.maxBytes < PHYSICAL_MIN) return { bytes: Math.max(0, logical), reason: 'max_bytes' };
  // Every file counts: pages in use, the WAL at its cap, -shm, ledger and ballast.
  const pageSize = Number(i.stmt.pageSize.pluck().get());
  const used = (Number(i.stmt.pageCount.pluck().get()) - Number(i.stmt.freelist.pluck().get())) * pageSize;
  const overhead = i.walCap + 64 * 1024 + 4096 + 2 * i.disk.ballastBytes;
  const stored = Math.max(1, i.stored);
  const ratio = stored > 64 * 1024 ? Math.min(4, Math.max(1, used / stored)) : 1.3;
  const limit = i.disk.budget(i.fileBytes());
  const physical = Math.ceil((used + i.incoming * ratio + overhead - limit) / ratio);
  const bytes = Math.max(0, logical, physical);
  // The disk is what bites when its budget is below max_bytes and the files hit it.
  const reason = limit < i.maxBytes && physical >= logical && bytes > 0 ? 'disk_full' : 'max_bytes';
  return { bytes, reason };
}

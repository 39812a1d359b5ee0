/**
 * A read-only look into a gateway's buffer, for `citygate queue stats|export` and the
 * doctor: it works next to a running gateway (WAL readers do not block the writer)
 * and on a read-only mount (a card the kernel remounted read-only after errors,
 * plugged into a laptop). It never writes: no pragma, no table, no migration.
 *
 * SQLite cannot open a WAL-mode database read-only when the -shm file is missing and
 * cannot be created (a cleanly closed buffer on a read-only mount). Then the file is
 * read into memory, its header marked as a rollback-journal database (bytes 18-19,
 * "file format write/read version", 2 → 1: a clean WAL database has nothing in its
 * WAL) and opened from there.
 */
import Database from 'better-sqlite3';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataPermissionError, isPermissionDenied, UserError } from '../core/errors.js';
import { BufferTime, systemTimeSources, type BufferTimeSaved } from './buffer-time.js';
import { storedBatch, type RowData } from './codec.js';
import { BUFFER_FORMAT, SELECT_ROWS, columnsOf } from './sqlite-schema.js';
import { LEDGER_FILE, readLedger } from './seq-ledger.js';
import type { StoredBatch } from './buffer.js';

export interface ReaderStats {
  readings: number;
  rows: number;
  bytes: number;
  oldestAgeMs: number | null;
  nextSeq: number;
  droppedTotal: number;
  rejectedTotal: number;
  lostTotal: number;
  pendingEvents: number;
}

export class BufferReader {
  readonly file: string;
  private readonly db: Database.Database;
  /** True when the database was read into memory (read-only mount). */
  readonly inMemory: boolean;

  constructor(readonly dataDir: string) {
    this.file = join(dataDir, 'buffer.db');
    try {
      statSync(this.file);
    } catch (err) {
      if (isPermissionDenied(err)) throw dataPermissionError(this.file);
      throw new UserError(`no buffer at ${this.file} — has the gateway run with this config (gateway.data_dir)?`);
    }
    let db: Database.Database;
    let inMemory = false;
    try {
      db = new Database(this.file, { readonly: true, fileMustExist: true });
      db.prepare('SELECT 1 FROM batches LIMIT 1').all();
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '');
      if (!code.startsWith('SQLITE_CANTOPEN') && code !== 'SQLITE_READONLY') {
        throw new UserError(`${this.file}: cannot read the buffer (${code || String(err)}) — is it a citygate buffer? (the gateway moves a damaged one aside at its next start)`);
      }
      let image: Buffer;
      try {
        image = readFileSync(this.file);
      } catch (e) {
        if (isPermissionDenied(e)) throw dataPermissionError(this.file);
        throw e;
      }
      if (image.length > 19 && image[18] === 2) image[18] = image[19] = 1;
      db = new Database(image, { readonly: true });
      inMemory = true;
    }
    this.db = db;
    this.inMemory = inMemory;
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > BUFFER_FORMAT) {
      db.close();
      throw new UserError(`${this.file}: buffer format ${version} is newer than this citygate understands (${BUFFER_FORMAT}): use the citygate that wrote it`);
    }
    // A file no release of format 2 has opened yet has no `fmt` column: every row is format 1.
    this.selectRows = columnsOf(db, 'batches').includes('fmt') ? SELECT_ROWS : SELECT_ROWS.replace('fmt FROM', '1 AS fmt FROM');
  }

  private readonly selectRows: string;

  private meta(key: string): number {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number } | undefined)?.value ?? 0;
  }

  stats(): ReaderStats {
    const agg = this.db.prepare('SELECT count(*) AS rows, sum(count) AS readings, sum(bytes) AS bytes, max(last_seq) AS last, min(committed_at) AS oldest FROM batches').get() as {
      rows: number;
      readings: number | null;
      bytes: number | null;
      last: number | null;
      oldest: number | null;
    };
    const savedTime = this.db.prepare("SELECT value FROM state WHERE key = '_buffer_time'").pluck().get() as string | undefined;
    const time = new BufferTime(systemTimeSources(), savedTime ? (JSON.parse(savedTime) as BufferTimeSaved) : undefined);
    const ledger = readLedger(join(this.dataDir, LEDGER_FILE));
    return {
      readings: agg.readings ?? 0,
      rows: agg.rows,
      bytes: agg.bytes ?? 0,
      oldestAgeMs: agg.oldest === null ? null : time.age(agg.oldest),
      nextSeq: Math.max(this.meta('next_seq'), (agg.last ?? 0) + 1, ledger?.clean ? ledger.reserved : 0, 1),
      droppedTotal: this.meta('dropped_total'),
      rejectedTotal: this.meta('rejected_total'),
      lostTotal: this.meta('lost_total'),
      pendingEvents: (this.db.prepare('SELECT count(*) FROM events').pluck().get() as number) ?? 0,
    };
  }

  perDevice(device?: string): { device: string; readings: number; first_seq: number; last_seq: number }[] {
    const rows = this.db
      .prepare('SELECT device, sum(count) AS readings, min(first_seq) AS first_seq, max(last_seq) AS last_seq FROM batches GROUP BY device ORDER BY device')
      .all() as { device: string; readings: number; first_seq: number; last_seq: number }[];
    return device === undefined ? rows : rows.filter((r) => r.device === device);
  }

  read(afterId: number, limit: number): StoredBatch[] {
    const rows = this.db.prepare(`${this.selectRows} WHERE id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as RowData[];
    return rows.map(storedBatch);
  }

  close(): void {
    this.db.close();
  }
}


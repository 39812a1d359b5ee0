/**
 * Row format 2 (codec.ts): bodies stored without their seq, one per line. What every
 * reader sees is format 1's JSON, byte for byte; a file written by the releases before
 * format 2 opens, keeps its rows, and stays theirs to open as long as format 1 is written.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compress, decodeRow, encodeRows, readingJson } from '../../../src/buffer/codec.js';
import { BufferReader } from '../../../src/buffer/reader.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { BUFFER_FORMAT, columnsOf } from '../../../src/buffer/sqlite-schema.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { Reading } from '../../../src/core/reading.js';
import { tempDir } from '../../helpers/gateway-config.js';

const MIXED: Reading[] = [
  { device: 'd', point: 'temp', value: 21.5, unit: 'degC', ts: 1_700_000_000_000, quality: 'good' },
  { device: 'd', point: 'label', value: 'two\nlines, "quoted"', ts: 1_700_000_000_001, quality: 'uncertain' },
  { device: 'd', point: 'nan', value: Number.NaN, ts: 1_700_000_000_002, quality: 'bad' },
  { device: 'd', point: 'flag', value: true, ts: 1_700_000_000_003, quality: 'good' },
  { device: 'd', point: 'ünïcode ✓', value: -0.000001, unit: '°C', ts: 1_700_000_000_004, quality: 'good' },
];

const asFormat1 = (rs: readonly Reading[], first: number): string => rs.map((r, k) => readingJson(r, first + k)).join(',');

function open(dataDir: string, rowFormat?: 1 | 2): SqliteBuffer {
  return new SqliteBuffer({ dataDir, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'full', maxReadingsPerRow: 100, clock: new FakeClock(), ...(rowFormat ? { rowFormat } : {}) });
}

/** A buffer file exactly as the releases before format 2 made it (format 1, 2 KiB pages, no `fmt`), holding one row. */
function format1File(dataDir: string, rs: readonly Reading[], firstSeq: number): void {
  const db = new Database(join(dataDir, 'buffer.db'));
  db.pragma('page_size = 2048');
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE batches (id INTEGER PRIMARY KEY, device TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
      count INTEGER NOT NULL, committed_at INTEGER NOT NULL, bytes INTEGER NOT NULL, payload BLOB NOT NULL);
    CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'info', device TEXT);
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `);
  const blob = compress(asFormat1(rs, firstSeq));
  db.prepare('INSERT INTO batches (id, device, first_seq, last_seq, count, committed_at, bytes, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(firstSeq, 'd', firstSeq, firstSeq + rs.length - 1, rs.length, 0, blob.length + 48, blob);
  db.pragma('user_version = 1');
  db.close();
}

function fileFacts(dataDir: string): { version: number; pageSize: number; fmts: number[]; hasFmt: boolean } {
  const db = new Database(join(dataDir, 'buffer.db'), { readonly: true });
  try {
    const hasFmt = columnsOf(db, 'batches').includes('fmt');
    return {
      version: Number(db.pragma('user_version', { simple: true })),
      pageSize: Number(db.pragma('page_size', { simple: true })),
      fmts: hasFmt ? (db.prepare('SELECT fmt FROM batches ORDER BY id').pluck().all() as number[]) : [],
      hasFmt,
    };
  } finally {
    db.close();
  }
}

describe('row format 2', () => {
  it('decodes to exactly the JSON format 1 stores: strings with newlines and quotes, NaN, booleans, no unit', () => {
    const [row] = encodeRows(MIXED, 4_000_000, 100, 2);
    expect(row!.fmt).toBe(2);
    expect(decodeRow(row!.blob, 2, 4_000_000, MIXED.length)).toBe(asFormat1(MIXED, 4_000_000));
    const [old] = encodeRows(MIXED, 4_000_000, 100, 1);
    expect(decodeRow(old!.blob, 1, 4_000_000, MIXED.length)).toBe(asFormat1(MIXED, 4_000_000));
  });

  it('a payload whose line count is not the row count is refused, not published with wrong seqs', () => {
    const [row] = encodeRows(MIXED, 1, 100, 2);
    expect(() => decodeRow(row!.blob, 2, 1, MIXED.length - 1)).toThrow(/does not hold 4 readings/);
    expect(() => decodeRow(row!.blob, 2, 1, MIXED.length + 1)).toThrow(/does not hold 6 readings/);
  });

  it("stores a street pole's 100 readings in under 1,000 bytes (a 1 KiB page), against ~1,240 in format 1", () => {
    const pole: Reading[] = Array.from({ length: 100 }, (_, p) => ({
      device: 'pole',
      point: `${['temp', 'hum', 'energy'][p % 3]}_${Math.floor(p / 3)}`,
      value: Math.round((20 + 8 * Math.sin(p)) * 100) / 100,
      unit: ['degC', '%', 'kWh'][p % 3]!,
      ts: 1_765_000_000_000,
      quality: 'good',
    }));
    const v2 = encodeRows(pole, 1_234_567, 100, 2)[0]!.blob.length;
    const v1 = encodeRows(pole, 1_234_567, 100, 1)[0]!.blob.length;
    expect(v2).toBeLessThan(950);
    expect(v2).toBeLessThan(v1 * 0.75);
  });

  it('a new buffer: format 2, 1 KiB pages, rows read back as format 1 JSON', () => {
    const dir = tempDir();
    const b = open(dir);
    b.commit(MIXED);
    const [row] = b.read(0, 10);
    expect(row!.json).toBe(asFormat1(MIXED, row!.firstSeq));
    expect(JSON.parse(`[${row!.json}]`).map((r: { seq: number }) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    b.close();
    expect(fileFacts(dir)).toEqual({ version: 2, pageSize: 1024, fmts: [2], hasFmt: true });
    const reader = new BufferReader(dir);
    expect(reader.read(0, 10)[0]!.json).toBe(row!.json);
    reader.close();
  });

  it('a format 1 file from an older release: its rows kept and read, new rows in format 2, the file marked format 2', () => {
    const dir = tempDir();
    format1File(dir, MIXED, 500);
    // The read-only reader (queue export) reads it before any format 2 release opened it.
    const before = new BufferReader(dir);
    expect(before.read(0, 10)[0]!.json).toBe(asFormat1(MIXED, 500));
    before.close();
    const b = open(dir);
    b.commit(MIXED.slice(0, 2));
    const rows = b.read(0, 10);
    expect(rows.map((r) => r.json)).toEqual([asFormat1(MIXED, 500), asFormat1(MIXED.slice(0, 2), 505)]);
    b.close();
    expect(fileFacts(dir)).toEqual({ version: 2, pageSize: 2048, fmts: [1, 2], hasFmt: true });
  });

  it('writing format 1 (an older release is the rollback target): the file stays format 1 and the older code reads every row', () => {
    const dir = tempDir();
    format1File(dir, MIXED, 500);
    const b = open(dir, 1);
    b.commit(MIXED.slice(0, 3));
    b.close();
    expect(fileFacts(dir)).toEqual({ version: 1, pageSize: 2048, fmts: [1, 1], hasFmt: true });
    // What the older releases run: their own statements, the payload inflated as is.
    const db = new Database(join(dir, 'buffer.db'));
    const rows = db.prepare('SELECT id, device, first_seq, last_seq, count, payload FROM batches WHERE id > ? ORDER BY id LIMIT ?').all(0, 10) as { payload: Buffer; first_seq: number }[];
    expect(rows.map((r) => decodeRow(r.payload, 1, r.first_seq, 0))).toEqual([asFormat1(MIXED, 500), asFormat1(MIXED.slice(0, 3), 505)]);
    db.prepare('INSERT INTO batches (id, device, first_seq, last_seq, count, committed_at, bytes, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(508, 'd', 508, 508, 1, 0, 60, compress(asFormat1(MIXED.slice(0, 1), 508)));
    db.close();
    // And a format 2 writer after it reads the older release's row (fmt defaulted to 1).
    const again = open(dir, 2);
    expect(again.read(507, 10).map((r) => r.json)).toEqual([asFormat1(MIXED.slice(0, 1), 508)]);
    again.close();
  });

  it('a file of a newer format than this code reads is refused with a clear error by the reader', () => {
    const dir = tempDir();
    const b = open(dir);
    b.commit(MIXED);
    b.close();
    const db = new Database(join(dir, 'buffer.db'));
    db.pragma(`user_version = ${BUFFER_FORMAT + 1}`);
    db.close();
    expect(() => new BufferReader(dir)).toThrow(new RegExp(`buffer format ${BUFFER_FORMAT + 1} is newer than this citygate understands`));
    expect(() => open(dir)).toThrow(/older citygate than the one that wrote it/);
  });
});

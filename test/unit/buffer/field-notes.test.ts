/** docs/field-notes.md, durable buffer (better-sqlite3): each item and the proof we handle it. */
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../../src/core/clock.js';
import type { Reading } from '../../../src/core/reading.js';
import { tempDir } from '../../helpers/gateway-config.js';

const open = (dataDir: string, synchronous: 'full' | 'normal' = 'full') =>
  new SqliteBuffer({ dataDir, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous, maxReadingsPerRow: 100, clock: systemClock });
const batch = (n: number, from: number): Reading[] =>
  Array.from({ length: n }, (_, i) => ({ device: `d${i % 7}`, point: `p${i % 50}`, value: Math.sin(from + i) * 1000, ts: 1_700_000_000_000 + from + i, quality: 'good' as const }));

describe('buffer field notes', () => {
  it('uses better-sqlite3 v12 (v13 segfaults on Node 20)', () => {
    const require = createRequire(import.meta.url);
    const version = (require('better-sqlite3/package.json') as { version: string }).version;
    expect(version.split('.')[0]).toBe('12');
  });

  it('WAL with the configured synchronous level, and a capped WAL', () => {
    for (const [level, code] of [['full', 2], ['normal', 1]] as const) {
      const dir = tempDir();
      const b = open(dir, level);
      const db = (b as unknown as { db: Database.Database }).db;
      expect(db.pragma('synchronous', { simple: true })).toBe(code);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('journal_size_limit', { simple: true })).toBe(4 * 1024 * 1024);
      b.close();
    }
  });

  it('hands space back after a large backlog drains (incremental vacuum), and the WAL stays capped', () => {
    const dir = tempDir();
    const b = open(dir, 'normal');
    for (let k = 0; k < 300; k++) b.commit(batch(1000, k * 1000));
    const file = join(dir, 'buffer.db');
    b.flushAcks();
    (b as unknown as { db: Database.Database }).db.pragma('wal_checkpoint(TRUNCATE)');
    const full = statSync(file).size;
    expect(full).toBeGreaterThan(4 * 1024 * 1024);
    let cursor = 0;
    for (;;) {
      const rows = b.read(cursor, 500);
      if (!rows.length) break;
      b.ack(rows.map((r) => r.id)); // acks are applied in groups of ≤ 1000 rows: bounded work per call
      cursor = rows[rows.length - 1]!.id;
    }
    b.flushAcks();
    (b as unknown as { db: Database.Database }).db.pragma('wal_checkpoint(TRUNCATE)');
    expect(b.stats().readings).toBe(0);
    expect(statSync(file).size).toBeLessThan(full / 2);
    expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(4 * 1024 * 1024);
    b.close();
  });

  it('purges in chunks, yielding between them', async () => {
    const b = open(tempDir(), 'normal');
    for (let k = 0; k < 50; k++) b.commit(batch(1000, k * 1000));
    const progress: number[] = [];
    let ticks = 0;
    const t = setInterval(() => ticks++, 0);
    const n = await b.purge({ chunk: 50, onProgress: (d) => progress.push(d) });
    clearInterval(t);
    expect(n).toBe(50_000);
    expect(progress.length).toBeGreaterThan(5);
    expect(ticks).toBeGreaterThan(0); // the event loop ran during the purge
    const ev = b.readEvents(10).map((e) => JSON.parse(e.payload));
    expect(ev.at(-1)).toMatchObject({ type: 'buffer_purged', first_seq: 1, last_seq: 50_000, count: 50_000 });
    b.close();
  });
});

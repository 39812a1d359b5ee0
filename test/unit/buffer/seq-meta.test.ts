/**
 * `meta.next_seq` is written only when a transaction deletes the newest row and inserts
 * none (sqlite-buffer.ts): a commit that applies acks inserts newer rows, which say
 * where seq is. Whatever empties the table, a crash never lets a seq be reused.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { Reading } from '../../../src/core/reading.js';
import { tempDir } from '../../helpers/gateway-config.js';

const readings = (n: number, from = 0): Reading[] => Array.from({ length: n }, (_, i) => ({ device: 'd', point: 'p', value: from + i, ts: 1000 + from + i, quality: 'good' }));

function open(dataDir: string, onFull: 'drop_oldest' | 'reject_newest' = 'drop_oldest', maxBytes = 1 << 30) {
  return new SqliteBuffer({ dataDir, maxBytes, maxAgeMs: 86_400_000, onFull, synchronous: 'full', maxReadingsPerRow: 10, clock: new FakeClock(), seqBlock: 100, ackFlushRows: 1_000_000 });
}

function metaNextSeq(dataDir: string): number | undefined {
  const db = new Database(join(dataDir, 'buffer.db'), { readonly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'next_seq'").get() as { value: number } | undefined)?.value;
  } finally {
    db.close();
  }
}

const ackAll = (b: SqliteBuffer): void => b.ack(b.read(0, 1000).map((r) => r.id));

describe('next_seq in meta', () => {
  it('a commit that deletes the acknowledged rows does not write it', () => {
    const dir = tempDir();
    const b = open(dir);
    b.commit(readings(10));
    for (let i = 1; i <= 5; i++) {
      ackAll(b);
      b.commit(readings(10, i * 10));
    }
    expect(metaNextSeq(dir)).toBeUndefined();
    expect(b.stats()).toMatchObject({ readings: 10, nextSeq: 61 });
    b.close();
  });

  it('acks applied on their own empty the table: it is written, and a crash (never closed) does not reuse a seq', () => {
    const dir = tempDir();
    const a = open(dir);
    a.commit(readings(10));
    ackAll(a);
    a.commit(readings(10, 10));
    ackAll(a);
    expect(a.flushAcks()).toBe(true);
    expect(a.stats().readings).toBe(0);
    expect(metaNextSeq(dir)).toBe(21);
    const b = open(dir); // `a` is never closed: its ledger stays unclean, the same boot
    expect(b.commit(readings(1))).toMatchObject({ firstSeq: 21 });
    b.close();
    a.close();
  });

  it('a commit refused whole (reject_newest) after deleting the newest row writes it', () => {
    const dir = tempDir();
    const a = open(dir, 'reject_newest', 400);
    expect(a.commit(readings(5))).toMatchObject({ accepted: 5 });
    ackAll(a);
    expect(a.commit(readings(100, 5))).toMatchObject({ accepted: 0 });
    expect(a.stats().readings).toBe(0);
    expect(metaNextSeq(dir)).toBe(6);
    const b = open(dir, 'reject_newest', 400);
    expect(b.stats().nextSeq).toBe(6);
    b.close();
    a.close();
  });
});

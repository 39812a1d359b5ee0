/**
 * How far the seq ledger reserves ahead (sqlite-buffer.ts, tryCommit): each move of its
 * ceiling is a 4 KiB write and an fdatasync on the card. With synchronous=full a crash
 * restarts seq from the database, so it reserves a hundred commits ahead; with normal,
 * where a reboot announces the unused reservation, ten.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLedger } from '../../../src/buffer/seq-ledger.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { Reading } from '../../../src/core/reading.js';
import { tempDir } from '../../helpers/gateway-config.js';

const poll = (k: number): Reading[] => Array.from({ length: 100 }, (_, p) => ({ device: 'pole', point: `p${p}`, value: k, ts: 1000 + k, quality: 'good' }));

/** The ledger's ceiling after each of 30 commits of 100 readings (a street pole's 5 minutes). */
function ceilings(synchronous: 'full' | 'normal'): number[] {
  const dir = tempDir();
  const b = new SqliteBuffer({ dataDir: dir, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous, maxReadingsPerRow: 100, clock: new FakeClock() });
  const out: number[] = [];
  for (let k = 0; k < 30; k++) {
    b.commit(poll(k));
    b.ack(b.read(0, 10).map((r) => r.id));
    out.push(readLedger(join(dir, 'seq.ledger'))!.reserved);
  }
  b.close();
  return out;
}

describe('the seq ledger reserves ahead', () => {
  it('with synchronous=full, a hundred commits: one write in 30 commits of a street pole', () => {
    const c = ceilings('full');
    expect(new Set(c).size).toBe(1);
    expect(c[0]).toBeGreaterThanOrEqual(101 + 100 * 100);
  });

  it('with synchronous=normal, ten commits: the window a reboot announces stays ~1000 seqs', () => {
    const c = ceilings('normal');
    expect(new Set(c).size).toBeGreaterThanOrEqual(3);
    expect(Math.max(...c) - 3000).toBeLessThanOrEqual(1100);
  });
});

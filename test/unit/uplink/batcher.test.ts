import { describe, expect, it } from 'vitest';
import { buildMessages } from '../../../src/uplink/batcher.js';
import type { StoredBatch } from '../../../src/buffer/buffer.js';

const row = (id: number, device: string, first: number, count: number): StoredBatch => ({
  id,
  device,
  firstSeq: first,
  lastSeq: first + count - 1,
  count,
  json: Array.from({ length: count }, (_, i) => `{"seq":${first + i},"ts":1,"point":"p","value":${i},"quality":"good"}`).join(','),
});

const seqs = (payload: string) => (JSON.parse(payload) as { readings: { seq: number }[] }).readings.map((r) => r.seq);

describe('buildMessages', () => {
  it('combines rows per device up to max readings, keeping order', () => {
    const msgs = buildMessages('gw', [row(1, 'a', 1, 3), row(2, 'b', 4, 2), row(3, 'a', 6, 3), row(4, 'a', 9, 3)], 6, 1 << 20);
    expect(msgs.map((m) => [m.device, m.ackRows, seqs(m.payload)])).toEqual([
      ['a', [1, 3], [1, 2, 3, 6, 7, 8]],
      ['b', [2], [4, 5]],
      ['a', [4], [9, 10, 11]],
    ]);
    expect(JSON.parse(msgs[0]!.payload)).toMatchObject({ gateway: 'gw', device: 'a' });
  });

  it('never exceeds the byte limit; splits an oversize row and acks it on its last part', () => {
    const big = row(7, 'a', 1, 50);
    const limit = 600;
    const msgs = buildMessages('gw', [big, row(8, 'a', 51, 1)], 100, limit);
    for (const m of msgs) expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(limit);
    const all = msgs.flatMap((m) => seqs(m.payload));
    expect(all).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    const acks = msgs.flatMap((m) => m.ackRows);
    expect(acks).toEqual([7, 8]);
    const lastPartOf7 = msgs.findIndex((m) => m.ackRows.includes(7));
    expect(msgs.slice(0, lastPartOf7).every((m) => m.ackRows.length === 0)).toBe(true);
  });
});

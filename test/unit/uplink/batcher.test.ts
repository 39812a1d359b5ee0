import { describe, expect, it } from 'vitest';
import { buildMessages } from '../../../src/uplink/batcher.js';
import type { StoredBatch } from '../../../src/buffer/buffer.js';
import { decodeDataPayload } from '../../../src/uplink/encoding/decode.js';
import { COMPACT_CONTENT_TYPE } from '../../../src/uplink/encoding/compact.js';

const row = (id: number, device: string, first: number, count: number): StoredBatch => ({
  id,
  device,
  firstSeq: first,
  lastSeq: first + count - 1,
  count,
  json: Array.from({ length: count }, (_, i) => `{"seq":${first + i},"ts":1,"point":"p","value":${i},"quality":"good"}`).join(','),
});

const seqs = (payload: string | Buffer) => decodeDataPayload(payload).readings.map((r) => r.seq);

describe('buildMessages', () => {
  it('combines rows per device up to max readings, keeping order', () => {
    const msgs = buildMessages('gw', [row(1, 'a', 1, 3), row(2, 'b', 4, 2), row(3, 'a', 6, 3), row(4, 'a', 9, 3)], 6, 1 << 20);
    expect(msgs.map((m) => [m.device, m.ackRows, seqs(m.payload)])).toEqual([
      ['a', [1, 3], [1, 2, 3, 6, 7, 8]],
      ['b', [2], [4, 5]],
      ['a', [4], [9, 10, 11]],
    ]);
    expect(JSON.parse(msgs[0]!.payload as string)).toMatchObject({ gateway: 'gw', device: 'a' });
    expect(msgs[0]!.properties).toBeUndefined();
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

  it('marks replayed messages in JSON only when asked', () => {
    const [plain] = buildMessages('gw', [row(1, 'a', 1, 2)], 10, 1 << 20);
    const [replayed] = buildMessages('gw', [row(1, 'a', 1, 2)], 10, 1 << 20, { replay: true });
    expect(plain!.payload).not.toContain('replay');
    expect(JSON.parse(replayed!.payload as string)).toMatchObject({ gateway: 'gw', device: 'a', replay: true });
  });

  it('compact: the same messages, smaller, announced, decoding to the JSON form', () => {
    const rows = [row(1, 'a', 1, 30), row(2, 'b', 31, 20), row(3, 'a', 51, 30)];
    const json = buildMessages('gw', rows, 60, 1 << 20, { replay: true });
    const compact = buildMessages('gw', rows, 60, 1 << 20, { encoding: 'compact', replay: true });
    expect(compact.map((m) => [m.device, m.ackRows, m.readings])).toEqual(json.map((m) => [m.device, m.ackRows, m.readings]));
    compact.forEach((m, k) => {
      expect(Buffer.isBuffer(m.payload)).toBe(true);
      expect(m.properties).toEqual({ contentType: COMPACT_CONTENT_TYPE, payloadFormatIndicator: false });
      expect(m.payload.length).toBeLessThan(Buffer.byteLength(json[k]!.payload) / 3);
      expect(JSON.stringify(decodeDataPayload(m.payload))).toBe(json[k]!.payload);
    });
  });

  it('compact: a row split for a small broker limit still fits and acks on its last part', () => {
    const big = row(7, 'a', 1, 50);
    const limit = 600;
    const msgs = buildMessages('gw', [big, row(8, 'a', 51, 1)], 100, limit, { encoding: 'compact' });
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(limit);
    expect(msgs.flatMap((m) => seqs(m.payload))).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(msgs.flatMap((m) => m.ackRows)).toEqual([7, 8]);
    const lastPartOf7 = msgs.findIndex((m) => m.ackRows.includes(7));
    expect(msgs.slice(0, lastPartOf7).every((m) => m.ackRows.length === 0)).toBe(true);
  });

  it('compact: a message the compact form cannot carry exactly goes as JSON', () => {
    const odd: StoredBatch = { id: 1, device: 'a', firstSeq: 1, lastSeq: 1, count: 1, json: '{"seq":1,"ts":1.5,"point":"p","value":1,"quality":"good"}' };
    const [m] = buildMessages('gw', [odd], 10, 1 << 20, { encoding: 'compact' });
    expect(typeof m!.payload).toBe('string');
    expect(m!.properties).toBeUndefined();
    expect(decodeDataPayload(m!.payload).readings[0]!.ts).toBe(1.5);
  });
});

/**
 * The send order wired to a buffer and a clock (src/uplink/lane-pump.ts): where the live
 * lane starts after an outage, from the buffer's next seq sampled as rows are committed.
 */
import { describe, expect, it } from 'vitest';
import type { DurableBuffer, StoredBatch } from '../../../src/buffer/buffer.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { LanePump } from '../../../src/uplink/lane-pump.js';
import type { LaneMessage } from '../../../src/uplink/lanes.js';
import { testConfig } from '../../helpers/gateway-config.js';

function memoryBuffer() {
  const rows: StoredBatch[] = [];
  let next = 1;
  let statsCalls = 0;
  const buffer = {
    stats: () => {
      statsCalls++;
      return { nextSeq: next };
    },
    read: (afterId: number, limit: number) => rows.filter((r) => r.id > afterId).slice(0, limit),
  } as unknown as DurableBuffer;
  const commit = (count: number) => {
    const json = Array.from({ length: count }, (_, i) => `{"seq":${next + i},"ts":1,"point":"p","value":1,"quality":"good"}`).join(',');
    rows.push({ id: next, device: 'd', firstSeq: next, lastSeq: next + count - 1, count, json });
    next += count;
  };
  return { buffer, commit, rows, statsCalls: () => statsCalls, nextSeq: () => next };
}

const uplink = (liveAge: string) => testConfig({ url: 'mqtt://127.0.0.1:1883', uplink: { live_age: liveAge, batch: { max_readings: 10, max_delay: '100ms' } } }).uplink;
const first = (m: LaneMessage | undefined) => (JSON.parse(m!.payload.toString()) as { readings: { seq: number }[] }).readings[0]!.seq;

describe('lane pump', () => {
  it('after a 60 s outage, live starts at the rows of the last live_age (to a second); older rows are replay', () => {
    const clock = new FakeClock();
    const mem = memoryBuffer();
    const pump = new LanePump(uplink('10s'), 'gw', mem.buffer, clock, () => {});
    const idAt = new Map<number, number>(); // row id -> commit time
    for (let t = 0; t < 60_000; t += 100) {
      idAt.set(mem.nextSeq(), clock.mono());
      mem.commit(10);
      pump.committed();
      clock.advance(100);
    }
    expect(mem.statsCalls()).toBeLessThanOrEqual(62); // about once a second, not per commit
    pump.linkUp(); // at t = 60 s
    const m = pump.next({ inflight: 0, window: 32, maxBytes: 1 << 20, draining: true });
    expect(m?.lane).toBe('live');
    const liveSince = idAt.get(first(m))!;
    expect(liveSince).toBeGreaterThanOrEqual(50_000 - 1100);
    expect(liveSince).toBeLessThanOrEqual(50_100); // every row committed after the cutoff is live
    const b = pump.next({ inflight: 1, window: 32, maxBytes: 1 << 20, draining: true });
    expect(b?.lane).toBe('backlog');
    expect(JSON.parse(b!.payload.toString())).toMatchObject({ replay: true });
    expect(first(b)).toBe(1);
    pump.close();
  });

  it('the last commits before a quiet spell are sampled too (a trailing sample)', () => {
    const clock = new FakeClock();
    const mem = memoryBuffer();
    const pump = new LanePump(uplink('10s'), 'gw', mem.buffer, clock, () => {});
    clock.advance(5000);
    mem.commit(10);
    pump.committed(); // sampled at 5 s
    clock.advance(300);
    mem.commit(10); // at 5.3 s: too soon for a sample, so one follows
    pump.committed();
    clock.advance(30_000); // nothing more; link up at 35.3 s: both rows are over 10 s old
    pump.linkUp();
    const ctx = { inflight: 0, window: 32, maxBytes: 1 << 20, draining: true };
    const out = [pump.next(ctx), pump.next({ ...ctx, inflight: 1 }), pump.next({ ...ctx, inflight: 2 })];
    // Without the trailing sample the row of 5.3 s would count as live (the last sample was at 5 s).
    expect(out.map((m) => m?.lane)).toEqual(['backlog', 'backlog', undefined]);
    expect(out.slice(0, 2).map((m) => [first(m), (JSON.parse(m!.payload.toString()) as { replay?: boolean }).replay])).toEqual([
      [1, true],
      [11, true],
    ]);
    pump.close();
  });

  it('acknowledgements feed the rate: the budget grows from its start value', () => {
    const clock = new FakeClock();
    const mem = memoryBuffer();
    for (let i = 0; i < 400; i++) mem.commit(10);
    const pump = new LanePump(uplink('10s'), 'gw', mem.buffer, clock, () => {});
    pump.linkUp(); // all 4000 readings are backlog (found at start)
    const ctx = { inflight: 0, window: 1000, maxBytes: 1 << 20, draining: true };
    const sendAll = () => {
      const sent: number[] = [];
      for (let m = pump.next({ ...ctx, inflight: sent.length }); m; m = pump.next({ ...ctx, inflight: sent.length })) {
        pump.sent(sent.length + 1000 * round, m);
        sent.push(sent.length + 1000 * round);
      }
      return sent;
    };
    let round = 0;
    const before = sendAll().length; // 16 KiB before anything is measured
    clock.advance(50); // a fast link: 50 ms round trip
    for (let i = 0; i < before; i++) pump.acked(i);
    round = 1;
    const after = sendAll().length;
    expect(before).toBeGreaterThanOrEqual(1);
    expect(after).toBeGreaterThan(before * 4);
    pump.close();
  });
});

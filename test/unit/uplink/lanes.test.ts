/**
 * The send order (src/uplink/lanes.ts and its helpers), pure: rows in memory, time
 * from a FakeClock. The last two tests run the whole control loop (lanes, rate
 * estimate, budget) against a simulated 2G link: one FIFO pipe of 25 kB/s with 300 ms
 * each way, acknowledgements coming back over it.
 */
import { describe, expect, it } from 'vitest';
import type { StoredBatch } from '../../../src/buffer/buffer.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { Lanes, backlogBudget, INITIAL_BACKLOG_BUDGET, type LaneMessage, type LanesConfig, type NextContext } from '../../../src/uplink/lanes.js';
import { LinkRate } from '../../../src/uplink/link-rate.js';
import { LiveMark } from '../../../src/uplink/live-mark.js';

/** A buffer in memory: rows by id, `read` as the real one (id > afterId, in id order). */
class Rows {
  readonly rows: StoredBatch[] = [];
  private seq = 1;
  add(device: string, count: number): StoredBatch {
    const first = this.seq;
    this.seq += count;
    const json = Array.from({ length: count }, (_, i) => `{"seq":${first + i},"ts":1,"point":"p${i}","value":${i},"quality":"good"}`).join(',');
    const r = { id: first, device, firstSeq: first, lastSeq: first + count - 1, count, json };
    this.rows.push(r);
    return r;
  }
  get nextSeq(): number {
    return this.seq;
  }
  read(afterId: number, limit: number): StoredBatch[] {
    return this.rows.filter((r) => r.id > afterId).slice(0, limit);
  }
  ack(ids: readonly number[]): void {
    const gone = new Set(ids);
    for (let i = this.rows.length - 1; i >= 0; i--) if (gone.has(this.rows[i]!.id)) this.rows.splice(i, 1);
  }
}

const cfg = (over: Partial<LanesConfig> = {}): LanesConfig => ({ gateway: 'gw', order: 'live_first', backlogShare: 0.5, maxReadings: 10, maxDelayMs: 1000, ...over });
const ctx = (over: Partial<NextContext> = {}): NextContext => ({ inflight: 0, window: 32, maxBytes: 1 << 20, backlogBudget: 1 << 30, draining: false, ...over });
const parse = (m: LaneMessage) => JSON.parse(m.payload.toString()) as { device: string; replay?: boolean; readings: { seq: number }[] };
const seqs = (m: LaneMessage) => parse(m).readings.map((r) => r.seq);

/** Take messages until `next` says none, counting them as in flight. */
function drain(l: Lanes, c: Partial<NextContext> = {}, max = 1000): LaneMessage[] {
  const out: LaneMessage[] = [];
  for (let i = 0; i < max; i++) {
    const m = l.next(ctx({ ...c, inflight: out.length }));
    if (!m) break;
    out.push(m);
  }
  return out;
}

describe('lanes', () => {
  it('live_first: fresh rows go first, unmarked; the backlog follows oldest first, marked replay', () => {
    const rows = new Rows();
    for (let i = 0; i < 5; i++) rows.add('a', 10); // backlog: seqs 1..50
    const liveFrom = rows.nextSeq;
    rows.add('a', 10); // live: 51..60
    const l = new Lanes(cfg(), rows, new FakeClock(), () => {});
    l.start(liveFrom);
    const out = drain(l);
    expect(out.map((m) => [m.lane, parse(m).replay ?? false, seqs(m)[0]])).toEqual([
      ['live', false, 51],
      ['backlog', true, 1],
      ['backlog', true, 11],
      ['backlog', true, 21],
      ['backlog', true, 31],
      ['backlog', true, 41],
    ]);
    expect(out.flatMap(seqs).sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(l.idle()).toBe(true);
  });

  it('strict: one lane in seq order per device, the old rows still marked replay', () => {
    const rows = new Rows();
    rows.add('a', 10);
    rows.add('b', 10);
    const liveFrom = rows.nextSeq;
    rows.add('a', 10);
    rows.add('b', 10);
    const l = new Lanes(cfg({ order: 'strict' }), rows, new FakeClock(), () => {});
    l.start(liveFrom);
    const out = drain(l);
    expect(out.map((m) => [parse(m).device, parse(m).replay ?? false, seqs(m)[0]])).toEqual([
      ['a', true, 1],
      ['b', true, 11],
      ['a', false, 21],
      ['b', false, 31],
    ]);
    expect(out.every((m) => m.lane === 'live')).toBe(true);
  });

  it('the backlog stays within its in-flight budget, always has one message out, and leaves a slot to live', () => {
    const rows = new Rows();
    for (let i = 0; i < 40; i++) rows.add('a', 10);
    const l = new Lanes(cfg(), rows, new FakeClock(), () => {});
    l.start(rows.nextSeq); // everything is backlog
    const one = drain(l, { backlogBudget: 0 });
    expect(one).toHaveLength(1); // the floor: the backlog always drains
    const size = one[0]!.bytes;
    l.acked(one[0]!);
    const three = drain(l, { backlogBudget: 2.5 * size });
    expect(three).toHaveLength(3); // sends while under budget
    for (const m of three) l.acked(m);
    const win = drain(l, { window: 4 });
    expect(win).toHaveLength(3); // window 4: one slot stays free for live
  });

  it('when both lanes always have data, each gets its share of the bytes', () => {
    for (const share of [0.2, 0.5, 0.8]) {
      const rows = new Rows();
      for (let i = 0; i < 300; i++) rows.add('old', 10);
      const liveFrom = rows.nextSeq;
      for (let i = 0; i < 300; i++) rows.add('new', 10);
      const l = new Lanes(cfg({ backlogShare: share }), rows, new FakeClock(), () => {});
      l.start(liveFrom);
      const bytes = { live: 0, backlog: 0 };
      for (let i = 0; i < 200; i++) {
        const m = l.next(ctx());
        if (!m) throw new Error('both lanes have data');
        bytes[m.lane] += m.bytes;
        l.acked(m);
      }
      expect(bytes.backlog / (bytes.live + bytes.backlog)).toBeCloseTo(share, 1);
    }
  });

  it('a lane with nothing to send earns no credit: live gets the next turn, not a burst of turns', () => {
    const rows = new Rows();
    for (let i = 0; i < 100; i++) rows.add('old', 10);
    const liveFrom = rows.nextSeq;
    const l = new Lanes(cfg({ backlogShare: 0.5 }), rows, new FakeClock(), () => {});
    l.start(liveFrom);
    for (let i = 0; i < 20; i++) l.acked(l.next(ctx())!); // backlog alone
    for (let i = 0; i < 3; i++) rows.add('new', 10);
    const next = [l.next(ctx()), l.next(ctx({ inflight: 1 })), l.next(ctx({ inflight: 2 }))].map((m) => m?.lane);
    expect(next).toEqual(['live', 'backlog', 'live']);
  });

  it('live batches wait up to max_delay for max_readings, then go', () => {
    const rows = new Rows();
    const clock = new FakeClock();
    let ready = 0;
    const l = new Lanes(cfg({ maxReadings: 10, maxDelayMs: 1000 }), rows, clock, () => ready++);
    l.start(rows.nextSeq);
    rows.add('a', 3);
    expect(l.next(ctx())).toBeUndefined();
    clock.advance(999);
    expect(ready).toBe(0);
    clock.advance(1);
    expect(ready).toBe(1);
    expect(seqs(l.next(ctx())!)).toEqual([1, 2, 3]);
    rows.add('a', 3);
    expect(l.next(ctx({ draining: true }))).toBeDefined(); // a drain does not hold
  });

  it('backlog rows the buffer dropped (max_bytes) while queued are not sent', () => {
    const rows = new Rows();
    for (let i = 0; i < 20; i++) rows.add('a', 10);
    const l = new Lanes(cfg(), rows, new FakeClock(), () => {});
    l.start(rows.nextSeq);
    const m1 = l.next(ctx({ backlogBudget: 0 }))!; // reads 16 rows ahead, sends one
    expect(seqs(m1)[0]).toBe(1);
    rows.ack(rows.rows.slice(0, 10).map((r) => r.id)); // the buffer drops the 10 oldest rows
    l.acked(m1);
    const rest = drain(l);
    expect(rest.map((m) => seqs(m)[0])).toEqual([101, 111, 121, 131, 141, 151, 161, 171, 181, 191]);
  });

  it('after reset and start, everything not acknowledged is sent again (duplicates, never a gap)', () => {
    const rows = new Rows();
    for (let i = 0; i < 4; i++) rows.add('a', 10);
    const l = new Lanes(cfg(), rows, new FakeClock(), () => {});
    l.start(rows.nextSeq);
    const first = drain(l);
    rows.ack(first[0]!.ackRows); // only the first acknowledged
    l.reset();
    const mark = rows.nextSeq;
    rows.add('a', 10);
    l.start(mark);
    const again = drain(l);
    expect(again.map((m) => [parse(m).replay ?? false, seqs(m)[0]])).toEqual([
      [false, 41],
      [true, 11],
      [true, 21],
      [true, 31],
    ]);
    expect(again.flatMap(seqs).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 11));
  });
});

describe('live mark', () => {
  it('rows committed after (link up − live_age) are live, within one sampling period', () => {
    const mark = new LiveMark(10_000, 1000);
    mark.sample(0, 1); // process start: empty buffer
    for (let t = 1000; t <= 60_000; t += 1000) mark.sample(t, 1 + t / 10); // 100 readings/s
    expect(mark.liveFrom(60_000)).toBe(1 + 50_000 / 10);
    expect(mark.liveFrom(60_500)).toBe(1 + 50_000 / 10);
    expect(mark.due(60_500)).toBe(false);
    expect(mark.due(61_000)).toBe(true);
  });

  it('before any sample old enough, the first sample counts: what the process found is backlog', () => {
    const mark = new LiveMark(10_000, 1000);
    expect(mark.liveFrom(0)).toBeUndefined();
    mark.sample(0, 500);
    mark.sample(1000, 600);
    expect(mark.liveFrom(2000)).toBe(500);
  });

  it('keeps only what it needs', () => {
    const mark = new LiveMark(5_000, 1000);
    for (let t = 0; t < 1_000_000; t += 1000) mark.sample(t, t);
    expect((mark as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(7);
    expect(mark.liveFrom(999_000)).toBe(994_000);
  });
});

describe('link rate and budget', () => {
  it('measures a link of 25 kB/s and 600 ms round trip, and the budget is one RTT plus the headroom', () => {
    const rate = new LinkRate();
    let free = 0;
    let now = 0;
    // 8 messages of 5 kB in flight at a time, for 20 s of link time.
    const acks: { id: number; at: number }[] = [];
    let id = 0;
    const send = () => {
      const tx = Math.max(now, free) + 5000 / 25;
      free = tx;
      rate.sent(++id, 5000, now);
      acks.push({ id, at: tx + 600 });
    };
    for (let i = 0; i < 8; i++) send();
    while (now < 20_000) {
      const a = acks.shift()!;
      now = a.at;
      rate.ackedAt(a.id, now);
      send();
    }
    expect(rate.rate(now)).toBeGreaterThan(25_000 * 0.9);
    expect(rate.rate(now)).toBeLessThan(25_000 * 1.3);
    expect(rate.minRtt()).toBe(800); // the first message: 200 ms on the wire + 600; later ones queue
    expect(backlogBudget(25_000, 800)).toBe(45_000);
    expect(backlogBudget(undefined, undefined)).toBe(INITIAL_BACKLOG_BUDGET);
    expect(rate.rate(now + 60_000)).toBeUndefined(); // old samples expire
  });
});

/**
 * The control loop on a simulated 2G link: a device of 100 points at 1 Hz (a row of 10
 * readings every 100 ms), a 10-minute backlog, 120 s of link time. Each reading's
 * latency is from its commit to its arrival at the broker.
 */
function simulate2G(order: 'live_first' | 'strict') {
  const C = 25_000; // bytes per second
  const D = 300; // ms each way
  const clock = new FakeClock();
  const rows = new Rows();
  const committedAt = new Map<number, number>();
  for (let i = 0; i < 6000; i++) committedAt.set(rows.add('dev', 10).id, -600_000 + i * 100);
  const rate = new LinkRate();
  let pumping = false;
  const pump = () => {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        const now = clock.mono();
        const m = lanes.next({ inflight: flights, window: 32, maxBytes: 256 * 1024, draining: false, backlogBudget: backlogBudget(rate.rate(now), rate.minRtt()) });
        if (!m) break;
        send(m);
      }
    } finally {
      pumping = false;
    }
  };
  const lanes = new Lanes({ gateway: 'gw', order, backlogShare: 0.5, maxReadings: 100, maxDelayMs: 1000 }, rows, clock, pump);
  const liveLatency: number[] = [];
  const delivered = { live: 0, backlog: 0 };
  let linkFree = 0;
  let flights = 0;
  let serial = 0;
  const liveFrom = rows.nextSeq;
  const send = (m: LaneMessage) => {
    const now = clock.mono();
    const id = ++serial;
    flights++;
    rate.sent(id, m.bytes, now);
    const tx = Math.max(now, linkFree) + ((m.bytes + 40) * 1000) / C;
    linkFree = tx;
    clock.setTimer(tx + D - now, () => {
      for (const r of parse(m).readings) {
        if (r.seq >= liveFrom) liveLatency.push(clock.mono() - (committedAt.get(r.seq - ((r.seq - liveFrom) % 10)) ?? NaN));
      }
      if (parse(m).replay) delivered.backlog += m.readings;
      else delivered.live += m.readings;
    });
    clock.setTimer(tx + 2 * D - now, () => {
      flights--;
      rate.ackedAt(id, clock.mono());
      lanes.acked(m);
      rows.ack(m.ackRows);
      pump();
    });
  };
  lanes.start(liveFrom);
  const produce = () => {
    committedAt.set(rows.add('dev', 10).id, clock.mono());
    pump();
    if (clock.mono() < 120_000) clock.setTimer(100, produce);
  };
  produce();
  clock.advance(120_000);
  liveLatency.sort((a, b) => a - b);
  return { p99: liveLatency[Math.floor(liveLatency.length * 0.99)] ?? Infinity, live: liveLatency.length, delivered };
}

describe('on a simulated 2G link with a 10-minute backlog', () => {
  it('live_first: live readings p99 within a few seconds while the backlog drains in what is left', () => {
    const r = simulate2G('live_first');
    expect(r.live).toBeGreaterThan(11_000); // nearly every live reading of the 120 s arrived
    expect(r.p99).toBeLessThan(5000);
    // ~25 kB/s of which live takes ~100 readings/s: the backlog gets most of the rest.
    expect(r.delivered.backlog).toBeGreaterThan(r.delivered.live * 1.5);
  });

  it('strict: fresh readings wait behind the backlog (what live_first is for)', () => {
    const r = simulate2G('strict');
    expect(r.live).toBe(0); // in 120 s not one fresh reading got through
    expect(r.delivered.backlog).toBeGreaterThan(20_000);
  });
});

/**
 * Announcements are never evicted: loss events merge into ranges and are always kept,
 * chatty device events coalesce, and any eviction is itself counted and announced.
 */
import { describe, expect, it } from 'vitest';
import { SqliteBuffer, type SqliteBufferOptions } from '../../../src/buffer/sqlite-buffer.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { tempDir } from '../../helpers/gateway-config.js';

function open(over: Partial<SqliteBufferOptions> = {}) {
  const clock = new FakeClock();
  return new SqliteBuffer({ dataDir: tempDir(), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop_oldest', synchronous: 'normal', maxReadingsPerRow: 10, clock, ...over });
}

const all = (b: SqliteBuffer) => b.readEvents(100_000).map((e) => JSON.parse(e.payload) as Record<string, unknown>);

describe('event journal', () => {
  it('a flapping device cannot push out loss announcements (the issue: 39,655 dropped seqs never announced)', () => {
    const b = open({ maxEvents: 50 });
    for (let i = 0; i < 200; i++) {
      b.addEvent({ type: 'buffer_dropped', reason: 'max_bytes', first_seq: i * 100 + 1, last_seq: i * 100 + 50, count: 50, dropped_total: (i + 1) * 50 });
      for (let k = 0; k < 5; k++) b.addEvent({ type: 'device_state', device: `dev-${k}`, from: i % 2 ? 'down' : 'ok', to: i % 2 ? 'ok' : 'down' });
      b.addEvent({ type: 'gateway_started', version: String(i) });
    }
    const ev = all(b);
    const drops = ev.filter((e) => e.type === 'buffer_dropped');
    expect(drops.reduce((n, e) => n + (e.count as number), 0)).toBe(200 * 50); // every dropped seq announced
    const states = ev.filter((e) => e.type === 'device_state');
    expect(states.length).toBeLessThanOrEqual(5); // at most one waiting per device
    const evicted = ev.filter((e) => e.type === 'events_evicted');
    expect(evicted).toHaveLength(1);
    expect(b.stats().eventsEvicted).toBe(evicted[0]!.evicted_total);
    expect(b.stats().eventsEvicted).toBeGreaterThan(0);
  });

  it('device_state events of one device coalesce while they wait, counting transitions', () => {
    const b = open();
    for (let i = 0; i < 100; i++) b.addEvent({ type: 'device_state', device: 'pm', from: i % 2 ? 'down' : 'ok', to: i % 2 ? 'ok' : 'down', reason: `r${i}` });
    b.addEvent({ type: 'device_state', device: 'other', from: 'ok', to: 'down' });
    const ev = all(b);
    expect(ev).toHaveLength(2);
    expect(ev[0]).toMatchObject({ device: 'pm', from: 'ok', to: 'ok', transitions: 100, reason: 'r99' });
    expect(ev[0]!.first_ts).toBeTypeOf('number');
  });

  it('adjacent drops merge into one range; a gap starts a new event', () => {
    const b = open();
    b.addEvent({ type: 'buffer_dropped', reason: 'max_age', first_seq: 1, last_seq: 10, count: 10, dropped_total: 10 });
    b.addEvent({ type: 'buffer_dropped', reason: 'max_age', first_seq: 11, last_seq: 20, count: 10, dropped_total: 20 });
    b.addEvent({ type: 'buffer_dropped', reason: 'max_age', first_seq: 31, last_seq: 40, count: 10, dropped_total: 30 });
    b.addEvent({ type: 'buffer_dropped', reason: 'disk_full', first_seq: 41, last_seq: 45, count: 5, dropped_total: 35 });
    expect(all(b).map((e) => [e.reason, e.first_seq, e.last_seq, e.count])).toEqual([
      ['max_age', 1, 20, 20],
      ['max_age', 31, 40, 10],
      ['disk_full', 41, 45, 5],
    ]);
  });

  it('an event already handed to the uplink is never changed under it', () => {
    const b = open();
    b.addEvent({ type: 'buffer_dropped', reason: 'max_bytes', first_seq: 1, last_seq: 10, count: 10, dropped_total: 10 });
    const [inFlight] = b.readEvents(1);
    b.addEvent({ type: 'buffer_dropped', reason: 'max_bytes', first_seq: 11, last_seq: 20, count: 10, dropped_total: 20 });
    b.ackEvent(inFlight!.id);
    expect(all(b).map((e) => [e.first_seq, e.last_seq])).toEqual([[11, 20]]);
  });

  it('survives a reopen: loss events stay, counters come back', () => {
    const dataDir = tempDir();
    const b = open({ dataDir, maxEvents: 3 });
    for (let i = 0; i < 10; i++) b.addEvent({ type: 'gateway_started', version: String(i) });
    const evicted = b.stats().eventsEvicted;
    b.close();
    const again = open({ dataDir, maxEvents: 3 });
    expect(again.stats().eventsEvicted).toBe(evicted);
    expect(all(again).filter((e) => e.type === 'events_evicted')).toHaveLength(1);
    again.close();
  });
});

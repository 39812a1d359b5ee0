import { describe, expect, it } from 'vitest';
import { SqliteBuffer, type SqliteBufferOptions } from '../../../src/buffer/sqlite-buffer.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import type { Reading } from '../../../src/core/reading.js';
import { tempDir } from '../../helpers/gateway-config.js';
import Database from 'better-sqlite3';
import { join } from 'node:path';

function open(over: Partial<SqliteBufferOptions> = {}) {
  const clock = new FakeClock();
  const opts: SqliteBufferOptions = {
    dataDir: tempDir(),
    maxBytes: 1 << 30,
    maxAgeMs: 86_400_000,
    onFull: 'drop_oldest',
    synchronous: 'full',
    maxReadingsPerRow: 100,
    clock,
    ...over,
  };
  return { buffer: new SqliteBuffer(opts), opts, clock };
}

const reading = (device: string, i: number, ts = 1000 + i): Reading => ({ device, point: 'p', value: i, ts, quality: 'good', unit: 'V' });
const many = (device: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => reading(device, from + i));

describe('SqliteBuffer', () => {
  it('assigns seq +1 per reading, grouped per device with contiguous ranges per row', () => {
    const { buffer } = open({ maxReadingsPerRow: 3 });
    const r = buffer.commit([reading('a', 0), reading('b', 0), reading('a', 1), reading('a', 2), reading('a', 3)]);
    expect(r).toMatchObject({ accepted: 5, firstSeq: 1, lastSeq: 5 });
    const rows = buffer.read(0, 10);
    expect(rows.map((x) => [x.device, x.firstSeq, x.lastSeq])).toEqual([
      ['a', 1, 3],
      ['a', 4, 4],
      ['b', 5, 5],
    ]);
    const parsed = JSON.parse(`[${rows[0]!.json}]`);
    expect(parsed).toEqual([
      { seq: 1, ts: 1000, point: 'p', value: 0, unit: 'V', quality: 'good' },
      { seq: 2, ts: 1001, point: 'p', value: 1, unit: 'V', quality: 'good' },
      { seq: 3, ts: 1002, point: 'p', value: 2, unit: 'V', quality: 'good' },
    ]);
  });

  it('keeps seq across restarts, even after every row was acknowledged', () => {
    const { buffer, opts } = open();
    buffer.commit(many('a', 10));
    buffer.ack(buffer.read(0, 100).map((r) => r.id));
    buffer.flushAcks();
    expect(buffer.stats().readings).toBe(0);
    buffer.close();
    const again = new SqliteBuffer(opts);
    expect(again.commit(many('a', 1))).toMatchObject({ firstSeq: 11 });
    again.close();
  });

  it('acknowledged rows go away; the rest stay, in order', () => {
    const { buffer } = open({ maxReadingsPerRow: 5 });
    buffer.commit(many('a', 20));
    const rows = buffer.read(0, 100);
    buffer.ack([rows[0]!.id, rows[2]!.id]);
    buffer.flushAcks();
    expect(buffer.read(0, 100).map((r) => r.firstSeq)).toEqual([6, 16]);
    expect(buffer.stats().readings).toBe(10);
  });

  it('drop_oldest: stays under max_bytes and records the dropped range as an event', () => {
    const { buffer } = open({ maxBytes: 4000, maxReadingsPerRow: 10 });
    for (let i = 0; i < 50; i++) buffer.commit(many('a', 10, i * 10));
    const s = buffer.stats();
    expect(s.bytes).toBeLessThanOrEqual(4000);
    expect(s.droppedTotal).toBeGreaterThan(0);
    const events = buffer.readEvents(1000).map((e) => JSON.parse(e.payload));
    const dropped = events.filter((e) => e.type === 'buffer_dropped');
    const total = dropped.reduce((n, e) => n + e.count, 0);
    expect(total).toBe(s.droppedTotal);
    expect(dropped[0].first_seq).toBe(1);
    // ranges are contiguous and end right before the oldest kept row
    for (let i = 1; i < dropped.length; i++) expect(dropped[i].first_seq).toBe(dropped[i - 1].last_seq + 1);
    expect(buffer.read(0, 1)[0]!.firstSeq).toBe(dropped[dropped.length - 1].last_seq + 1);
  });

  it('reject_newest: refuses new readings without a seq and says so', () => {
    const { buffer } = open({ maxBytes: 2000, onFull: 'reject_newest', maxReadingsPerRow: 10 });
    let rejected = 0;
    for (let i = 0; i < 40; i++) rejected += buffer.commit(many('a', 10, i * 10)).rejected;
    expect(rejected).toBeGreaterThan(0);
    expect(buffer.read(0, 1)[0]!.firstSeq).toBe(1); // the oldest are kept
    expect(buffer.stats().nextSeq - 1 + rejected).toBe(400);
    const ev = buffer.readEvents(1000).map((e) => JSON.parse(e.payload));
    expect(ev.filter((e) => e.type === 'buffer_rejected').reduce((n, e) => n + e.count, 0)).toBe(rejected);
  });

  it('max_age: drops rows committed longer ago than max_age', () => {
    const { buffer, clock } = open({ maxAgeMs: 60_000 });
    buffer.commit(many('a', 5));
    clock.advance(50_000);
    buffer.commit(many('a', 5));
    clock.advance(20_000);
    expect(buffer.expire()).toBe(5);
    expect(buffer.read(0, 10).map((r) => r.firstSeq)).toEqual([6]);
    const ev = buffer.readEvents(10).map((e) => JSON.parse(e.payload));
    expect(ev[0]).toMatchObject({ type: 'buffer_dropped', reason: 'max_age', first_seq: 1, last_seq: 5 });
  });

  it('a drop across rows acknowledged out of order (live first) announces only what it dropped', () => {
    const { buffer, clock } = open({ maxAgeMs: 60_000, maxReadingsPerRow: 10 });
    buffer.commit(many('a', 50)); // rows 1-10, 11-20 … 41-50
    const rows = buffer.read(0, 10);
    buffer.ack([rows[1]!.id, rows[2]!.id]); // 11-30 delivered before 1-10
    buffer.flushAcks();
    clock.advance(70_000);
    expect(buffer.expire()).toBe(30);
    const ev = buffer.readEvents(10).map((e) => JSON.parse(e.payload) as { type: string; first_seq: number; last_seq: number; count: number; dropped_total: number });
    expect(ev.filter((e) => e.type === 'buffer_dropped').map((e) => [e.first_seq, e.last_seq, e.count, e.dropped_total])).toEqual([
      [1, 10, 10, 10],
      [31, 50, 20, 30],
    ]);
  });

  it('stores less than the JSON it will publish (compressed)', () => {
    const { buffer } = open();
    const readings = many('a', 100);
    buffer.commit(readings);
    const json = buffer.read(0, 1)[0]!.json;
    expect(buffer.stats().bytes).toBeLessThan(Buffer.byteLength(json) / 2);
  });

  it('sets auto_vacuum incremental and WAL on a new file', () => {
    const { buffer, opts } = open();
    buffer.close();
    const db = new Database(join(opts.dataDir, 'buffer.db'));
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('state survives a reopen', () => {
    const { buffer, opts } = open();
    buffer.state.set('rain:total', 123.4);
    buffer.close();
    const again = new SqliteBuffer(opts);
    expect(again.state.get('rain:total')).toBe(123.4);
    again.close();
  });

  it('events wait until acknowledged', () => {
    const { buffer } = open();
    buffer.addEvent({ type: 'gateway_started', version: 'x' });
    buffer.addEvent({ type: 'gateway_stopping', version: 'y' });
    const [first] = buffer.readEvents(1);
    buffer.ackEvent(first!.id);
    expect(buffer.readEvents(10).map((e) => JSON.parse(e.payload).version)).toEqual(['y']);
  });
});

describe('SqliteBuffer row ids', () => {
  it('never reuses an id once the table empties, so a reader after id N sees every new row', () => {
    const { buffer } = open();
    buffer.commit(many('a', 5));
    const rows = buffer.read(0, 10);
    const cursor = rows[rows.length - 1]!.id;
    buffer.ack(rows.map((r) => r.id));
    buffer.flushAcks();
    expect(buffer.stats().rows).toBe(0);
    buffer.commit(many('a', 3));
    expect(buffer.read(cursor, 10).map((r) => r.firstSeq)).toEqual([6]);
  });
});

describe('SqliteBuffer acknowledgements', () => {
  it('apply inside the next commit, or on their own after ackFlushMs', () => {
    const { buffer, clock } = open({ ackFlushMs: 30_000 });
    buffer.commit(many('a', 5));
    buffer.ack(buffer.read(0, 10).map((r) => r.id));
    expect(buffer.stats().readings).toBe(0); // delivered: no longer waiting
    const db = (buffer as unknown as { db: Database.Database }).db;
    expect(db.prepare('SELECT count(*) AS n FROM batches').get()).toEqual({ n: 1 }); // not deleted yet
    buffer.commit(many('a', 2));
    expect(db.prepare('SELECT count(*) AS n FROM batches').get()).toEqual({ n: 1 }); // the commit applied it
    buffer.ack(buffer.read(0, 10).map((r) => r.id));
    clock.advance(30_000);
    expect(db.prepare('SELECT count(*) AS n FROM batches').get()).toEqual({ n: 0 });
  });

  it('never hands out a seq twice, even when the newest row is acknowledged before older ones', () => {
    const { buffer, opts } = open();
    buffer.commit([reading('a', 0), reading('b', 0)]); // rows a:1, b:2
    const rows = buffer.read(0, 10);
    buffer.ack([rows[1]!.id]); // the newest row (b) delivered, a still waiting
    buffer.flushAcks();
    buffer.close();
    const again = new SqliteBuffer(opts);
    expect(again.commit([reading('c', 0)])).toMatchObject({ firstSeq: 3 });
    again.close();
  });
});

/**
 * The chaos run's accounting on made-up streams: a run that reports "0 unexplained"
 * must be able to report something else.
 */
import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.js';
import { lossRanges, refusedCount } from './loss-events.js';
import { Timeline } from './timeline.js';

const EPOCH = 1_800_000_000_000;

function feed(l: Ledger, seqs: number[], value = (s: number) => s, at = (s: number) => s * 10): void {
  for (const s of seqs) l.reading('dev', { seq: s, ts: EPOCH + at(s), point: 'c', value: value(s) }, at(s));
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('chaos ledger', () => {
  it('counts a clean stream as delivered, duplicates by arrival', () => {
    const l = new Ledger(new Timeline(EPOCH));
    feed(l, range(1, 100));
    feed(l, [50, 51]);
    const r = l.report(['kill9'], new Map());
    expect(r.total).toMatchObject({ delivered: 100, duplicates: 2, unexplained: 0, conflicts: 0, lostBeforeSeq: 0 });
  });

  it('attributes a gap to the fault in force and separates announced, broker-acked and unexplained loss', () => {
    const tl = new Timeline(EPOCH);
    const l = new Ledger(tl);
    tl.begin('disk_full', 395);
    const cut = tl.begin('link_cut', 600);
    tl.end(cut, 700);
    feed(l, [...range(1, 40), ...range(51, 60), ...range(71, 80), ...range(91, 100)]);
    l.event({ type: 'buffer_dropped', reason: 'disk_full', first_seq: 41, last_seq: 45, count: 5 }, 500);
    l.event({ type: 'buffer_lost', ranges: [[46, 50]] }, 500);
    l.acked(range(61, 70));
    const r = l.report(['disk_full', 'link_cut'], new Map([['disk_full', 1], ['link_cut', 1]]));
    const row = (k: string) => r.rows.find((x) => x.kind === k);
    expect(row('disk_full')).toMatchObject({ injected: 1, announced: 10, unexplained: 10 });
    expect(row('link_cut')).toMatchObject({ brokerLost: 10, unexplained: 0 });
    // 81..90 follow a reading sampled at 800: after the cut healed, disk_full (still active) is the kind.
    expect(r.unexplained).toEqual([{ first: 81, last: 90, kind: 'disk_full', at: 800 }]);
    expect(r.total.unexplained).toBe(10);
  });

  it('reports a reused seq as a conflict', () => {
    const l = new Ledger(new Timeline(EPOCH));
    feed(l, range(1, 10));
    l.reading('dev', { seq: 5, ts: EPOCH + 999, point: 'c', value: 77 }, 999);
    expect(l.report([], new Map()).total.conflicts).toBe(1);
  });

  it('finds counter values that vanished without a seq, less announced refusals; a restart starts a new run', () => {
    const l = new Ledger(new Timeline(EPOCH));
    // values jump 10 -> 20 between seqs 10 and 11: 9 readings never got a seq
    feed(l, range(1, 20), (s) => (s <= 10 ? s : s + 9));
    // a restart: the counter starts again at 0
    feed(l, range(21, 25), (s) => s - 21);
    let r = l.report([], new Map());
    expect(r.total.lostBeforeSeq).toBe(9);
    l.event({ type: 'buffer_rejected', reason: 'max_bytes', count: 9, ts: EPOCH + 105 }, 105);
    r = l.report([], new Map());
    expect(r.total.lostBeforeSeq).toBe(0);
  });

  it('maps a shifted wall clock back to harness time', () => {
    const tl = new Timeline(EPOCH);
    tl.setOffset(1000, 86_400_000);
    expect(tl.realTime(EPOCH + 500)).toBe(500);
    expect(tl.realTime(EPOCH + 86_400_000 + 1500)).toBe(1500);
  });

  it('reads loss ranges from first/last and from ranges', () => {
    expect(lossRanges({ type: 'buffer_purged', first_seq: 3, last_seq: 9 })).toEqual([[3, 9]]);
    expect(lossRanges({ type: 'buffer_lost', ranges: [[1, 2], [5, 5]] })).toEqual([[1, 2], [5, 5]]);
    expect(lossRanges({ type: 'device_state', first_seq: 1, last_seq: 2 })).toEqual([]);
    expect(refusedCount({ type: 'buffer_rejected', count: 4 })).toBe(4);
  });
});

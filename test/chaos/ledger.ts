/**
 * The chaos run's accounting: every reading the upstream subscriber saw, every event
 * it (or the proxy's tap) saw, every seq the broker PUBACKed. `report()` turns it into
 * one row per fault kind:
 * - delivered: seqs that arrived, by the kind in force when they were sampled;
 * - duplicates: extra arrivals, by the kind in force when they arrived;
 * - announced: seqs that never arrived but lie in a loss event's range;
 * - broker lost: never arrived, not announced, but PUBACKed by the broker (lost by a
 *   broker crash after it took responsibility: not the gateway's loss);
 * - unexplained: never arrived, not announced, never PUBACKed — silent loss;
 * - conflicts: one seq carrying two different readings (a reused seq);
 * - lost before seq: a counter point skipped values that no missing seq can account
 *   for, less readings announced as refused (`buffer_rejected`) — readings accepted
 *   from a driver and then silently never given a seq.
 * A missing seq is attributed to the kind in force when its nearest earlier delivered
 * neighbour was sampled.
 */
import { eventLabel, lossRanges, refusedCount, type EventLike } from './loss-events.js';
import { fnv1a, SeqTable } from './seq-table.js';
import { BASELINE, Timeline } from './timeline.js';

export interface ReadingLike {
  seq: number;
  ts: number;
  point: string;
  value: unknown;
}

export interface KindRow {
  kind: string;
  injected: number;
  delivered: number;
  duplicates: number;
  announced: number;
  unexplained: number;
  conflicts: number;
  brokerLost: number;
  lostBeforeSeq: number;
}

export interface SeqRange {
  first: number;
  last: number;
  kind: string;
  at: number;
}

export interface LedgerReport {
  rows: KindRow[];
  total: KindRow;
  maxSeq: number;
  unexplained: SeqRange[];
  beforeSeqSamples: string[];
  conflictSamples: string[];
  /** Seqs announced as lost that arrived anyway, by event type/reason. */
  announcedButDelivered: Record<string, number>;
  orderViolations: string[];
  lossEvents: Record<string, { events: number; seqs: number }>;
  eventTypes: Record<string, number>;
}

const emptyRow = (kind: string): KindRow => ({
  kind,
  injected: 0,
  delivered: 0,
  duplicates: 0,
  announced: 0,
  unexplained: 0,
  conflicts: 0,
  brokerLost: 0,
  lostBeforeSeq: 0,
});

export class Ledger {
  readonly seqs = new SeqTable();
  private readonly points = new Map<string, number>();
  private readonly dupAt: number[] = [];
  private readonly conflictAt: number[] = [];
  readonly conflictSamples: string[] = [];
  private readonly ranges: Array<[number, number, string]> = [];
  private readonly refused: Array<{ t: number; n: number }> = [];
  private readonly seenEvents = new Set<string>();
  private readonly eventTypes = new Map<string, number>();
  private readonly lossEvents = new Map<string, { events: number; seqs: number }>();
  private readonly orderHigh = new Map<string, number>();
  readonly orderViolations: string[] = [];
  maxPublished = 0;

  constructor(readonly timeline = new Timeline()) {}

  /**
   * A reading the subscriber received at harness time `recvAt`. `replay`: it came in a
   * message of the backlog lane; order is checked per device and lane (uplink.order:
   * live_first sends fresh readings ahead of the backlog, README "Live first after an outage").
   */
  reading(device: string, r: ReadingLike, recvAt: number, replay = false): void {
    const t = this.seqs;
    const s = r.seq;
    if (!Number.isInteger(s) || s < 1) return;
    t.ensure(s);
    const id = fnv1a(`${device}/${r.point}@${r.ts}=${JSON.stringify(r.value)}`);
    if (t.count[s] === 0) {
      t.ident[s] = id;
      t.sampledAt[s] = this.timeline.realTime(r.ts);
      const key = `${device}/${r.point}`;
      let p = this.points.get(key);
      if (p === undefined) this.points.set(key, (p = this.points.size + 1));
      t.point[s] = p;
      t.value[s] = typeof r.value === 'number' ? r.value : NaN;
      const lane = replay ? `${device} (replay)` : device;
      const high = this.orderHigh.get(lane) ?? 0;
      if (s < high && this.orderViolations.length < 1000) this.orderViolations.push(`${lane}: seq ${s} first arrived after ${high}`);
      this.orderHigh.set(lane, Math.max(high, s));
    } else {
      this.dupAt.push(recvAt);
      if (t.ident[s] !== id) {
        this.conflictAt.push(recvAt);
        if (this.conflictSamples.length < 20) this.conflictSamples.push(`seq ${s}: second reading ${device}/${r.point}@${r.ts}=${JSON.stringify(r.value)} differs from the first`);
      }
    }
    if (t.count[s] !== 0xffff) t.count[s] = (t.count[s] as number) + 1;
  }

  /** An event from `<root>/events` (the subscriber and the tap may both report it). */
  event(ev: EventLike, recvAt: number): void {
    const key = JSON.stringify(ev);
    if (this.seenEvents.has(key)) return;
    this.seenEvents.add(key);
    const type = String(ev.type);
    this.eventTypes.set(type, (this.eventTypes.get(type) ?? 0) + 1);
    const ranges = lossRanges(ev);
    const n = refusedCount(ev);
    if (ranges.length > 0 || n > 0) {
      const label = eventLabel(ev);
      const tally = this.lossEvents.get(label) ?? { events: 0, seqs: 0 };
      tally.events++;
      tally.seqs += n + ranges.reduce((a, [f, l]) => a + (l - f + 1), 0);
      this.lossEvents.set(label, tally);
    }
    for (const [f, l] of ranges) this.ranges.push([f, l, eventLabel(ev)]);
    if (n > 0) this.refused.push({ t: typeof ev.ts === 'number' ? this.timeline.realTime(ev.ts) : recvAt, n });
  }

  /** The broker PUBACKed a message carrying these seqs (seen by the proxy's tap). */
  acked(seqs: readonly number[]): void {
    for (const s of seqs) {
      if (!Number.isInteger(s) || s < 1) continue;
      this.seqs.ensure(s);
      this.seqs.acked[s] = 1;
      this.maxPublished = Math.max(this.maxPublished, s);
    }
  }

  published(seq: number): void {
    if (seq > this.maxPublished) this.maxPublished = seq;
  }

  /** Highest seq delivered or published so far. */
  get maxSeen(): number {
    return Math.max(this.maxPublished, this.seqs.size - 1);
  }

  delivered(seq: number): boolean {
    return seq < this.seqs.size && this.seqs.count[seq] !== 0;
  }

  report(kinds: readonly string[], injected: ReadonlyMap<string, number>, maxSeqHint = 0): LedgerReport {
    const tl = this.timeline;
    const maxSeq = Math.max(this.maxSeen, maxSeqHint);
    this.seqs.ensure(maxSeq);
    const { count, sampledAt, acked, point, value } = this.seqs;
    const rows = new Map<string, KindRow>([BASELINE, ...kinds].map((k) => [k, emptyRow(k)]));
    const row = (k: string): KindRow => {
      let r = rows.get(k);
      if (!r) rows.set(k, (r = emptyRow(k)));
      return r;
    };
    for (const [k, n] of injected) row(k).injected = n;

    const announced = new Uint8Array(maxSeq + 1);
    const announcedButDelivered: Record<string, number> = {};
    for (const [f, l, label] of this.ranges) {
      const lo = Math.max(1, f);
      const hi = Math.min(maxSeq, l);
      announced.fill(1, lo, hi + 1);
      let got = 0;
      for (let s = lo; s <= hi; s++) if (count[s] !== 0) got++;
      if (got > 0) announcedButDelivered[label] = (announcedButDelivered[label] ?? 0) + got;
    }

    // Time of each missing seq: its nearest earlier delivered neighbour (or later, at the start).
    let firstDelivered = NaN;
    for (let s = 1; s <= maxSeq; s++) {
      if (count[s] !== 0) {
        firstDelivered = sampledAt[s] as number;
        break;
      }
    }
    const missingPrefix = new Int32Array(maxSeq + 1);
    const unexplained: SeqRange[] = [];
    let lastT = firstDelivered;
    for (let s = 1; s <= maxSeq; s++) {
      const got = count[s] !== 0;
      missingPrefix[s] = (missingPrefix[s - 1] as number) + (got ? 0 : 1);
      if (got) {
        lastT = sampledAt[s] as number;
        row(tl.kindAt(lastT)).delivered++;
        continue;
      }
      const k = tl.kindAt(Number.isNaN(lastT) ? 0 : lastT);
      if (announced[s]) row(k).announced++;
      else if (acked[s]) row(k).brokerLost++;
      else {
        row(k).unexplained++;
        const prev = unexplained[unexplained.length - 1];
        if (prev && prev.last === s - 1 && prev.kind === k) prev.last = s;
        else unexplained.push({ first: s, last: s, kind: k, at: lastT });
      }
    }
    for (const t of this.dupAt) row(tl.kindAt(t)).duplicates++;
    for (const t of this.conflictAt) row(tl.kindAt(t)).conflicts++;

    // Counter points: values skipped that no missing seq can account for.
    const beforeSeq = new Map<string, number>();
    const beforeSeqSamples: string[] = [];
    const names = [...this.points.keys()];
    const lastSeq = new Int32Array(this.points.size + 1);
    for (let s = 1; s <= maxSeq; s++) {
      if (count[s] === 0) continue;
      const p = point[s] as number;
      const v = value[s] as number;
      const prev = lastSeq[p] as number;
      lastSeq[p] = s;
      if (prev === 0 || Number.isNaN(v)) continue;
      const pv = value[prev] as number;
      if (!(v > pv)) continue; // a restart: the counter starts again
      const skipped = v - pv - 1;
      const missingBetween = (missingPrefix[s - 1] as number) - (missingPrefix[prev] as number);
      const lost = Math.max(0, Math.round(skipped - missingBetween));
      if (lost === 0) continue;
      const k = tl.kindAt(sampledAt[s] as number);
      beforeSeq.set(k, (beforeSeq.get(k) ?? 0) + lost);
      if (beforeSeqSamples.length < 20)
        beforeSeqSamples.push(`${names[p - 1]}: value ${pv} (seq ${prev}) then ${v} (seq ${s}): ${lost} reading(s) without a seq [${k}]`);
    }
    const refusedBy = new Map<string, number>();
    for (const r of this.refused) refusedBy.set(tl.kindAt(r.t), (refusedBy.get(tl.kindAt(r.t)) ?? 0) + r.n);
    for (const [k, n] of beforeSeq) row(k).lostBeforeSeq = Math.max(0, n - (refusedBy.get(k) ?? 0));

    const list = [...rows.values()];
    const total = emptyRow('TOTAL');
    for (const r of list) {
      for (const f of ['injected', 'delivered', 'duplicates', 'announced', 'unexplained', 'conflicts', 'brokerLost'] as const) total[f] += r[f];
    }
    const allBefore = [...beforeSeq.values()].reduce((a, b) => a + b, 0);
    const allRefused = [...refusedBy.values()].reduce((a, b) => a + b, 0);
    total.lostBeforeSeq = Math.max(0, allBefore - allRefused);
    return {
      rows: list,
      total,
      maxSeq,
      unexplained,
      beforeSeqSamples,
      conflictSamples: this.conflictSamples,
      announcedButDelivered,
      orderViolations: this.orderViolations,
      lossEvents: Object.fromEntries(this.lossEvents),
      eventTypes: Object.fromEntries(this.eventTypes),
    };
  }
}

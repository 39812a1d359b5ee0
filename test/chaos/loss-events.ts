/**
 * What the chaos run reads from `<root>/events` as an announced loss. The one place
 * to change if the gateway's event names or fields change:
 * - RANGED types name seqs that will never arrive: `first_seq`..`last_seq` and/or
 *   `ranges: [[first, last], …]` (both accepted, both counted);
 * - COUNTED types name readings refused before they got a seq: `count`.
 * Anything else on the events topic is only counted by type for the report.
 */
export const LOSS_EVENT_SHAPE = {
  ranged: ['buffer_dropped', 'buffer_lost', 'buffer_purged'],
  counted: ['buffer_rejected'],
  first: 'first_seq',
  last: 'last_seq',
  ranges: 'ranges',
  count: 'count',
  reason: 'reason',
} as const;

export type EventLike = Record<string, unknown> & { type?: unknown };

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The seq ranges an event announces as lost ([] if it announces none). */
export function lossRanges(ev: EventLike): Array<[number, number]> {
  const s = LOSS_EVENT_SHAPE;
  if (!s.ranged.includes(ev.type as never)) return [];
  const out: Array<[number, number]> = [];
  const first = ev[s.first];
  const last = ev[s.last];
  if (isSeq(first) && isSeq(last) && last >= first) out.push([first, last]);
  const ranges = ev[s.ranges];
  if (Array.isArray(ranges)) {
    for (const r of ranges) {
      if (Array.isArray(r) && isSeq(r[0]) && isSeq(r[1]) && r[1] >= r[0]) out.push([r[0], r[1]]);
    }
  }
  return out;
}

/** Readings an event announces as refused before they had a seq (0 if none). */
export function refusedCount(ev: EventLike): number {
  const s = LOSS_EVENT_SHAPE;
  if (!s.counted.includes(ev.type as never)) return 0;
  const n = ev[s.count];
  return isSeq(n) ? n : 0;
}

/** `type/reason` for the report's tally of loss events (`type` alone if no reason). */
export function eventLabel(ev: EventLike): string {
  const reason = ev[LOSS_EVENT_SHAPE.reason];
  return typeof reason === 'string' ? `${String(ev.type)}/${reason}` : String(ev.type);
}

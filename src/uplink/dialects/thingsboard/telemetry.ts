/**
 * Readings as ThingsBoard gateway telemetry (`v1/gateway/telemetry`):
 *
 *   {"<device name>": [{"ts": 1700000000000, "values": {"temperature": 21.5, "citygate_seq": 17, "citygate_seq_last": 17}}]}
 *
 * ThingsBoard keeps one value per (device, key, ts), so readings of one poll (same `ts`)
 * share an entry: consecutive readings of a message go into one entry while their `ts`
 * is equal, their seqs follow one another and no point repeats. Each entry names the
 * seqs it carries, `citygate_seq` … `citygate_seq_last` (every seq in between is in the
 * entry), so a consumer sees loss as a gap exactly as with citygate's own topics.
 *
 * Lost in translation (docs/thingsboard.md): `unit` (ThingsBoard sets units on widgets);
 * `quality` when `good` (any other quality rides along as `<point>_quality`); a `null`
 * value (NaN, ±Infinity: ThingsBoard refuses a JSON null, so the value is left out and
 * the quality key stays); the `replay` flag (ThingsBoard files every value under its
 * own `ts`). Pure.
 */
import type { DataPayload, ReadingPayload } from '../../../core/payloads.js';

/** The first seq an entry carries. */
export const SEQ_KEY = 'citygate_seq';
/** The last seq an entry carries (every seq from SEQ_KEY to it is in the entry). */
export const SEQ_LAST_KEY = 'citygate_seq_last';
/** Appended to a point's name for its quality, sent only when it is not `good`. */
export const QUALITY_SUFFIX = '_quality';

export type TbValue = number | boolean | string;

/** One timestamped entry, as ThingsBoard documents it: `{"ts": …, "values": {…}}`. */
export interface TbEntry {
  ts: number;
  values: Record<string, TbValue>;
}

interface Open {
  ts: number;
  first: number;
  last: number;
  values: Record<string, TbValue>;
}

function fits(open: Open, r: ReadingPayload): boolean {
  if (r.ts !== open.ts || r.seq !== open.last + 1) return false;
  return !(r.point in open.values) && !(`${r.point}${QUALITY_SUFFIX}` in open.values);
}

function close(o: Open): TbEntry {
  return { ts: o.ts, values: { ...o.values, [SEQ_KEY]: o.first, [SEQ_LAST_KEY]: o.last } };
}

/** The readings (in message order) as ThingsBoard telemetry entries. */
export function telemetryEntries(readings: readonly ReadingPayload[]): TbEntry[] {
  const out: TbEntry[] = [];
  let open: Open | undefined;
  for (const r of readings) {
    if (!open || !fits(open, r)) {
      if (open) out.push(close(open));
      open = { ts: r.ts, first: r.seq, last: r.seq, values: {} };
    }
    open.last = r.seq;
    if (r.value !== null) open.values[r.point] = r.value;
    if (r.quality !== 'good') open.values[`${r.point}${QUALITY_SUFFIX}`] = r.quality;
  }
  if (open) out.push(close(open));
  return out;
}

/** The `v1/gateway/telemetry` payload of one citygate data message; `name` is the device's ThingsBoard name. */
export function encodeTelemetry(name: string, msg: Pick<DataPayload, 'readings'>): string {
  return JSON.stringify({ [name]: telemetryEntries(msg.readings) });
}

/**
 * Sparkplug payloads of the edge node, from citygate's values (pure). What maps to what
 * (docs/sparkplug.md):
 * - a reading → a metric by alias (no name, tck-id-payloads-alias-data-cmd-requirement) with
 *   its own timestamp (the reading's ts), its value, and two properties: `citygate/seq`
 *   (UInt64: the reading's seq, so a consumer sees gaps exactly as on citygate's topics)
 *   and `Quality` (Int32: 192 good, 500 uncertain, 0 bad; spec §6.4.9.1);
 *   `is_historical` when it is store-and-forward data.
 * - births carry every metric with name, alias, datatype, the last value (null if none yet)
 *   and the unit as the `engUnit` property.
 */
import type { ReadingPayload } from '../../../core/payloads.js';
import { encodePayload, type UMetric } from './codec.js';
import type { MetricDef } from './metrics.js';

export const BDSEQ = 'bdSeq';
export const REBIRTH = 'Node Control/Rebirth';
/** Node metrics: citygate's events (loss announcements, device_state, commands), health, command replies. */
export const EVENT = 'citygate/event';
export const HEALTH = 'citygate/health';
export const COMMAND_REPLY = 'citygate/command_reply';
export const VERSION = 'citygate/version';
/** NCMD metrics named `citygate/cmd/<name>` (String: a citygate request) run command <name>. */
export const COMMAND_PREFIX = 'citygate/cmd/';
/** Property of every data metric: the reading's citygate seq. */
export const SEQ_PROPERTY = 'citygate/seq';

export const QUALITY: Record<ReadingPayload['quality'], number> = { good: 192, uncertain: 500, bad: 0 };

export function ndeath(bdSeq: number, now: number): Buffer {
  // No seq (tck-id-payloads-ndeath-seq); the bdSeq metric only (tck-id-topics-ndeath-payload).
  return encodePayload({ timestamp: now, metrics: [{ name: BDSEQ, type: 'Int64', value: bdSeq }] });
}

export function nbirth(bdSeq: number, node: MetricDef[], now: number): Buffer {
  const metrics: UMetric[] = [
    { name: BDSEQ, type: 'Int64', value: bdSeq, timestamp: now },
    { name: REBIRTH, type: 'Boolean', value: false, timestamp: now },
    ...node.map((d) => birthMetric(d, now)),
  ];
  return encodePayload({ timestamp: now, seq: 0, metrics });
}

export function dbirth(seq: number, defs: MetricDef[], now: number): Buffer {
  return encodePayload({ timestamp: now, seq, metrics: defs.map((d) => birthMetric(d, now)) });
}

export function ddeath(seq: number, now: number): Buffer {
  return encodePayload({ timestamp: now, seq, metrics: [] });
}

export interface DataMetric {
  def: MetricDef;
  reading: ReadingPayload;
  historical: boolean;
}

export function ddata(seq: number, metrics: DataMetric[], now: number): Buffer {
  return encodePayload({
    timestamp: now,
    seq,
    metrics: metrics.map(({ def, reading: r, historical }) => ({
      alias: def.alias,
      timestamp: r.ts,
      type: def.type,
      value: metricValue(r.value),
      properties: { [SEQ_PROPERTY]: { type: 'UInt64', value: r.seq }, Quality: { type: 'Int32', value: QUALITY[r.quality] } },
      ...(historical ? { isHistorical: true } : {}),
    })),
  });
}

/** One node metric (String) in an NDATA: an event, health or a command reply. */
export function ndataText(seq: number, def: MetricDef, text: string, now: number): Buffer {
  def.last = { value: text, ts: now };
  return encodePayload({ timestamp: now, seq, metrics: [{ alias: def.alias, timestamp: now, type: def.type, value: text }] });
}

function birthMetric(d: MetricDef, now: number): UMetric {
  return {
    name: d.name,
    alias: d.alias,
    timestamp: d.last?.ts ?? now,
    type: d.type,
    value: metricValue(d.last?.value ?? null),
    ...(d.unit ? { properties: { engUnit: { type: 'String', value: d.unit } } } : {}),
  };
}

function metricValue(v: ReadingPayload['value']): UMetric['value'] {
  // A number that is not finite has no place in a metric: null (as in citygate's JSON).
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

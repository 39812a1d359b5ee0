/**
 * How readings are stored: as the JSON the uplink will publish, so draining is string
 * concatenation, and compressed, so the SD card sees fewer bytes than the payload
 * (docs/field-notes.md#sd-card-wear: one row per reading writes ~3.5x the payload). Pure functions.
 */
import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import type { Reading } from '../core/reading.js';

const nameCache = new Map<string, string>();
function quoted(s: string): string {
  let q = nameCache.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (nameCache.size < 100_000) nameCache.set(s, q);
  }
  return q;
}

/** One reading as it appears inside a data message's `readings` array. */
export function readingJson(r: Reading, seq: number): string {
  const v = typeof r.value === 'number' ? (Number.isFinite(r.value) ? String(r.value) : 'null') : JSON.stringify(r.value);
  const unit = r.unit === undefined ? '' : `,"unit":${quoted(r.unit)}`;
  return `{"seq":${seq},"ts":${r.ts},"point":${quoted(r.point)},"value":${v}${unit},"quality":"${r.quality}"}`;
}

export function compress(json: string): Buffer {
  return deflateRawSync(json, { level: 1, strategy: constants.Z_DEFAULT_STRATEGY });
}

export function decompress(blob: Buffer): string {
  return inflateRawSync(blob).toString('utf8');
}

/**
 * The `data/<device>` payload for readings bodies (each `{…},{…}`), in order.
 * `replay`: the readings waited out an outage (the uplink's backlog lane): `"replay":true`.
 */
export function dataMessage(gateway: string, device: string, bodies: readonly string[], replay?: boolean): string {
  return `{"gateway":${quoted(gateway)},"device":${quoted(device)},${replay ? '"replay":true,' : ''}"readings":[${bodies.join(',')}]}`;
}

/** Per-row overhead counted against max_bytes besides the payload (row header, columns). */
export const ROW_OVERHEAD = 48;

export interface EncodedRow {
  device: string;
  firstSeq: number;
  count: number;
  /** Bytes counted against max_bytes. */
  bytes: number;
  blob: Buffer;
}

/**
 * Group readings by device (keeping order within a device) and split into rows of at
 * most `maxPerRow`. Seq is assigned row after row from `startSeq`, so each row's seq
 * range is contiguous and rows in id (= first seq) order are in seq order.
 */
export function encodeRows(readings: readonly Reading[], startSeq: number, maxPerRow: number): EncodedRow[] {
  const rows: EncodedRow[] = [];
  // The usual commit holds one device's readings (a poll, or a group commit of one
  // device): no grouping, no copies, each row's JSON built in one pass.
  const first = readings[0];
  if (first !== undefined && readings.every((r) => r.device === first.device)) {
    for (let i = 0; i < readings.length; i += maxPerRow) rows.push(encodeRow(first.device, readings, i, Math.min(i + maxPerRow, readings.length), startSeq + i));
    return rows;
  }
  const byDevice = new Map<string, Reading[]>();
  for (const r of readings) {
    let list = byDevice.get(r.device);
    if (!list) byDevice.set(r.device, (list = []));
    list.push(r);
  }
  let seq = startSeq;
  for (const [device, list] of byDevice) {
    for (let i = 0; i < list.length; i += maxPerRow) {
      const row = encodeRow(device, list, i, Math.min(i + maxPerRow, list.length), seq);
      seq += row.count;
      rows.push(row);
    }
  }
  return rows;
}

/** readings[from, to) as one row whose first seq is `firstSeq`. */
function encodeRow(device: string, readings: readonly Reading[], from: number, to: number, firstSeq: number): EncodedRow {
  let json = '';
  for (let k = from; k < to; k++) json += (k === from ? '' : ',') + readingJson(readings[k] as Reading, firstSeq + k - from);
  const blob = compress(json);
  return { device, firstSeq, count: to - from, bytes: blob.length + ROW_OVERHEAD, blob };
}

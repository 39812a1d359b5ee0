/**
 * How readings are stored: as the JSON the uplink will publish, so draining is string
 * concatenation, and compressed, so the SD card sees fewer bytes than the payload
 * (docs/field-notes.md#sd-card-wear: one row per reading writes ~3.5x the payload). Pure functions.
 *
 * Two row formats (the row's `fmt` column; docs/performance.md#row-format-2):
 * - 1: the readings' bodies as published, `{"seq":N,"ts":…},{"seq":N+1,…}`;
 * - 2: each body without its seq (`"ts":…}`), one per line. A row's seqs are
 *   `first_seq`, `first_seq + 1`, … so storing them is redundant, and the rising digits
 *   break deflate's matches: a street pole's row of 100 readings shrinks from ~1,240 to
 *   ~740 bytes and fits a 1 KiB page. `decodeRow` puts the seqs back, so every reader
 *   of a row sees format 1's JSON.
 * No body holds a raw newline: every string in it is JSON-escaped.
 */
import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import type { Reading } from '../core/reading.js';
import type { StoredBatch } from './buffer.js';

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
  return `{"seq":${seq},${readingTail(r)}`;
}

/** A reading's body after its seq: `"ts":…,"quality":"…"}` (row format 2 stores this). */
function readingTail(r: Reading): string {
  const v = typeof r.value === 'number' ? (Number.isFinite(r.value) ? String(r.value) : 'null') : JSON.stringify(r.value);
  const unit = r.unit === undefined ? '' : `,"unit":${quoted(r.unit)}`;
  return `"ts":${r.ts},"point":${quoted(r.point)},"value":${v}${unit},"quality":"${r.quality}"}`;
}

/** A `batches` row as SELECT_ROWS (sqlite-schema.ts) reads it. */
export interface RowData {
  id: number;
  device: string;
  first_seq: number;
  last_seq: number;
  count: number;
  payload: Buffer;
  fmt: number;
}

export function storedBatch(r: RowData): StoredBatch {
  return { id: r.id, device: r.device, firstSeq: r.first_seq, lastSeq: r.last_seq, count: r.count, json: decodeRow(r.payload, r.fmt, r.first_seq, r.count) };
}

/** The row formats this code reads and writes (see the header). */
export type RowFormat = 1 | 2;

/**
 * A stored row's readings as the bodies of a data message (`{"seq":…},{…}`), whatever
 * its format. Throws on a payload that does not inflate or a format-2 row whose line
 * count is not `count` (a damaged row: the caller decides what to do with it).
 */
export function decodeRow(payload: Buffer, fmt: number, firstSeq: number, count: number): string {
  const text = decompress(payload);
  if (fmt !== 2) return text;
  let out = '';
  let from = 0;
  for (let k = 0; k < count; k++) {
    const nl = text.indexOf('\n', from);
    const last = k === count - 1;
    if (last ? nl >= 0 : nl < 0) throw new Error(`row ${firstSeq}: a format 2 payload that does not hold ${count} readings`);
    out += `${k === 0 ? '' : ','}{"seq":${firstSeq + k},${text.slice(from, last ? text.length : nl)}`;
    from = nl + 1;
  }
  return out;
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
  fmt: RowFormat;
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
export function encodeRows(readings: readonly Reading[], startSeq: number, maxPerRow: number, fmt: RowFormat = 2): EncodedRow[] {
  const rows: EncodedRow[] = [];
  // The usual commit holds one device's readings (a poll, or a group commit of one
  // device): no grouping, no copies, each row's JSON built in one pass.
  const first = readings[0];
  if (first !== undefined && readings.every((r) => r.device === first.device)) {
    for (let i = 0; i < readings.length; i += maxPerRow) rows.push(encodeRow(first.device, readings, i, Math.min(i + maxPerRow, readings.length), startSeq + i, fmt));
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
      const row = encodeRow(device, list, i, Math.min(i + maxPerRow, list.length), seq, fmt);
      seq += row.count;
      rows.push(row);
    }
  }
  return rows;
}

/** readings[from, to) as one row whose first seq is `firstSeq`. */
function encodeRow(device: string, readings: readonly Reading[], from: number, to: number, firstSeq: number, fmt: RowFormat): EncodedRow {
  let text = '';
  if (fmt === 2) for (let k = from; k < to; k++) text += (k === from ? '' : '\n') + readingTail(readings[k] as Reading);
  else for (let k = from; k < to; k++) text += (k === from ? '' : ',') + readingJson(readings[k] as Reading, firstSeq + k - from);
  const blob = compress(text);
  return { device, fmt, firstSeq, count: to - from, bytes: blob.length + ROW_OVERHEAD, blob };
}

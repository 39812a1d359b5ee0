/**
 * Turns buffer rows into data messages: per device, in row order, at most
 * `maxReadings` readings and `maxBytes` bytes each. A row too large for one packet
 * (a broker with a small Maximum Packet Size) is split; its row id rides on the last
 * part, so the row is deleted only when every part was acknowledged. Pure.
 *
 * Messages are sized by their JSON form. With `encoding: 'compact'` each message is then
 * encoded compactly (src/uplink/encoding/) and sent so when that is smaller than its JSON,
 * which is every realistic case; so a compact message always fits where its JSON did and
 * the splitting rule holds for both encodings.
 */
import type { StoredBatch } from '../buffer/buffer.js';
import { dataMessage } from '../buffer/codec.js';
import type { DataPayload, ReadingPayload } from './topics.js';
import { COMPACT_PROPERTIES, compactPayload, type DataEncoding, type PayloadProperties } from './encoding/encoding.js';

export interface OutgoingMessage {
  device: string;
  /** JSON text, or a compact payload (docs/encoding.md). */
  payload: string | Buffer;
  /** MQTT 5 properties announcing a non-JSON payload; absent for JSON. */
  properties?: PayloadProperties;
  /** Buffer rows to delete when this message is acknowledged. */
  ackRows: number[];
  readings: number;
}

export interface BuildOptions {
  /** Default 'json'. */
  encoding?: DataEncoding;
  /** Mark every message as replayed after an outage (`"replay":true`). */
  replay?: boolean;
}

interface Open {
  device: string;
  bodies: string[];
  bytes: number;
  readings: number;
  rowIds: number[];
}

export function buildMessages(gateway: string, rows: readonly StoredBatch[], maxReadings: number, maxBytes: number, opts: BuildOptions = {}): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  const open = new Map<string, Open>();
  const make = messageMaker(gateway, opts);
  const wrapper = (device: string): number => Buffer.byteLength(dataMessage(gateway, device, [], opts.replay));
  const close = (m: Open): void => {
    open.delete(m.device);
    out.push(make(m.device, m.bodies, m.rowIds, m.readings));
  };

  for (const row of rows) {
    const size = Buffer.byteLength(row.json);
    let cur = open.get(row.device);
    if (cur && (cur.readings + row.count > maxReadings || cur.bytes + size + 1 > maxBytes)) {
      close(cur);
      cur = undefined;
    }
    if (wrapper(row.device) + size > maxBytes) {
      out.push(...splitRow(gateway, row, maxBytes, make, opts.replay));
      continue;
    }
    if (!cur) {
      cur = { device: row.device, bodies: [], bytes: wrapper(row.device), readings: 0, rowIds: [] };
      open.set(row.device, cur);
    }
    cur.bodies.push(row.json);
    cur.bytes += size + 1;
    cur.readings += row.count;
    cur.rowIds.push(row.id);
  }
  for (const m of [...open.values()]) close(m);
  return out;
}

type Maker = (device: string, bodies: string[], ackRows: number[], readings: number) => OutgoingMessage;

/** Builds one message in the chosen encoding from its JSON reading bodies. */
function messageMaker(gateway: string, opts: BuildOptions): Maker {
  return (device, bodies, ackRows, readings) => {
    const json = dataMessage(gateway, device, bodies, opts.replay);
    if (opts.encoding === 'compact') {
      const msg = (): DataPayload => ({ gateway, device, ...(opts.replay ? { replay: true } : {}), readings: JSON.parse(`[${bodies.join(',')}]`) as ReadingPayload[] });
      const payload = compactPayload(msg, json);
      if (payload) return { device, payload, properties: COMPACT_PROPERTIES, ackRows, readings };
    }
    return { device, payload: json, ackRows, readings };
  };
}

function splitRow(gateway: string, row: StoredBatch, maxBytes: number, make: Maker, replay: boolean | undefined): OutgoingMessage[] {
  const readings = JSON.parse(`[${row.json}]`) as unknown[];
  const base = Buffer.byteLength(dataMessage(gateway, row.device, [], replay));
  const parts: OutgoingMessage[] = [];
  let bodies: string[] = [];
  let bytes = base;
  const flush = (): void => {
    if (bodies.length === 0) return;
    parts.push(make(row.device, bodies, [], bodies.length));
    bodies = [];
    bytes = base;
  };
  for (const r of readings) {
    const body = JSON.stringify(r);
    const size = Buffer.byteLength(body) + 1;
    if (bodies.length > 0 && bytes + size > maxBytes) flush();
    bodies.push(body);
    bytes += size;
  }
  flush();
  const last = parts[parts.length - 1];
  if (last) last.ackRows = [row.id];
  return parts;
}

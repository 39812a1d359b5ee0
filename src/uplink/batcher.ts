/**
 * Turns buffer rows into data messages: per device, in row order, at most
 * `maxReadings` readings and `maxBytes` bytes each. A row too large for one packet
 * (a broker with a small Maximum Packet Size) is split; its row id rides on the last
 * part, so the row is deleted only when every part was acknowledged. `replay` marks
 * every message (`"replay":true`, the uplink's backlog lane). Pure.
 */
import type { StoredBatch } from '../buffer/buffer.js';
import { dataMessage } from '../buffer/codec.js';

export interface OutgoingMessage {
  device: string;
  payload: string;
  /** Buffer rows to delete when this message is acknowledged. */
  ackRows: number[];
  readings: number;
}

interface Open {
  device: string;
  bodies: string[];
  bytes: number;
  readings: number;
  rowIds: number[];
}

export interface BuildOptions {
  /** Mark every message as replayed after an outage (`"replay":true`). */
  replay?: boolean;
}

export function buildMessages(gateway: string, rows: readonly StoredBatch[], maxReadings: number, maxBytes: number, opts: BuildOptions = {}): OutgoingMessage[] {
  const replay = opts.replay;
  const out: OutgoingMessage[] = [];
  const open = new Map<string, Open>();
  const wrapper = (device: string): number => Buffer.byteLength(dataMessage(gateway, device, [], replay));
  const close = (m: Open): void => {
    open.delete(m.device);
    out.push({ device: m.device, payload: dataMessage(gateway, m.device, m.bodies, replay), ackRows: m.rowIds, readings: m.readings });
  };

  for (const row of rows) {
    const size = Buffer.byteLength(row.json);
    let cur = open.get(row.device);
    if (cur && (cur.readings + row.count > maxReadings || cur.bytes + size + 1 > maxBytes)) {
      close(cur);
      cur = undefined;
    }
    if (wrapper(row.device) + size > maxBytes) {
      out.push(...splitRow(gateway, row, maxBytes, replay));
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

function splitRow(gateway: string, row: StoredBatch, maxBytes: number, replay?: boolean): OutgoingMessage[] {
  const readings = JSON.parse(`[${row.json}]`) as unknown[];
  const base = Buffer.byteLength(dataMessage(gateway, row.device, [], replay));
  const parts: OutgoingMessage[] = [];
  let bodies: string[] = [];
  let bytes = base;
  const flush = (): void => {
    if (bodies.length === 0) return;
    parts.push({ device: row.device, payload: dataMessage(gateway, row.device, bodies, replay), ackRows: [], readings: bodies.length });
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

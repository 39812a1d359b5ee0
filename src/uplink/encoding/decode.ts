/**
 * The reference decoder for `data/<device>` payloads, for consumers and tools (the chaos
 * tap, `citygate decode`): tells the encoding from the first byte (`{` JSON, 0xC1 or
 * 0xC0 compact v1; docs/encoding.md) and returns the JSON form. Garbage gives a DecodeError
 * saying what is wrong, never another exception. Pure.
 */
import type { DataPayload } from '../topics.js';
import { COMPACT_V1, COMPACT_V1_PLAIN, DecodeError, decodeCompact, hex } from './compact.js';

export { DecodeError } from './compact.js';

export type PayloadEncoding = 'json' | 'compact';

/** The encoding a payload announces with its first byte (JSON may start with whitespace). */
export function payloadEncoding(payload: Uint8Array): PayloadEncoding | undefined {
  const b = payload[0];
  if (b === COMPACT_V1 || b === COMPACT_V1_PLAIN) return 'compact';
  if (b === 0x7b || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) return 'json';
  return undefined;
}

export function decodeDataPayload(payload: Uint8Array | string): DataPayload {
  const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const enc = payloadEncoding(buf);
  if (enc === 'compact') return decodeCompact(buf);
  if (enc === 'json') return checkJson(buf);
  throw new DecodeError(`not a citygate data message: first byte ${hex(buf[0])} (expected "{" for JSON, 0xc1 or 0xc0 for compact v1)`);
}

function checkJson(buf: Uint8Array): DataPayload {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new DecodeError('JSON data message is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new DecodeError(`JSON data message does not parse: ${(err as Error).message}`);
  }
  const m = body as Partial<DataPayload> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new DecodeError('JSON data message is not an object');
  if (typeof m.gateway !== 'string' || typeof m.device !== 'string') throw new DecodeError('JSON data message: "gateway" and "device" must be strings');
  if (!Array.isArray(m.readings)) throw new DecodeError('JSON data message: "readings" must be an array');
  m.readings.forEach((r, k) => {
    if (typeof r !== 'object' || r === null || typeof r.seq !== 'number' || typeof r.ts !== 'number' || typeof r.point !== 'string' || typeof r.quality !== 'string')
      throw new DecodeError(`JSON data message: reading ${k} lacks seq, ts, point or quality`);
  });
  return m as DataPayload;
}

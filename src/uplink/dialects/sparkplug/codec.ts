/**
 * The Sparkplug B payload codec: Eclipse Tahu's `sparkplug-payload` (protobuf), with the
 * 64-bit integers it decodes (Long) turned into numbers where citygate needs them.
 */
import { get } from 'sparkplug-payload';
import type { TypeStr, UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';

export type { TypeStr, UMetric, UPayload };

const codec = get('spBv1.0');
if (!codec) throw new Error('sparkplug-payload has no spBv1.0 codec');
const spb = codec;

export function encodePayload(p: UPayload): Buffer {
  return Buffer.from(spb.encodePayload(p));
}

/** Decodes a payload; throws (protobuf's error) on garbage. */
export function decodePayload(buf: Uint8Array): UPayload {
  return spb.decodePayload(buf);
}

/** A number from a decoded value (Long, number), or undefined. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return undefined;
}

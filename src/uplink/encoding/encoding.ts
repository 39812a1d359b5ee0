/**
 * How data messages go on the wire (`uplink.encoding`, docs/encoding.md): readable JSON
 * (the default) or the compact form for metered links. Pure.
 */
import type { DataPayload } from '../topics.js';
import { COMPACT_CONTENT_TYPE, encodeCompact } from './compact.js';

export type DataEncoding = 'json' | 'compact';

/** MQTT 5 publish properties that announce a compact payload (3.1.1 ignores them). */
export interface PayloadProperties {
  contentType: string;
  payloadFormatIndicator: boolean;
}

export const COMPACT_PROPERTIES: PayloadProperties = { contentType: COMPACT_CONTENT_TYPE, payloadFormatIndicator: false };

/**
 * The compact payload of `msg` when it is smaller than `json` (its JSON form), else
 * undefined: the message goes as JSON, which always fits where the JSON was sized to fit.
 * `msg` builds the message (readings parsed back from the stored JSON).
 */
export function compactPayload(msg: () => DataPayload, json: string): Buffer | undefined {
  const out = encodeCompact(msg());
  return out && out.length < Buffer.byteLength(json) ? out : undefined;
}

/**
 * The wire format of downlink commands (pure: bytes in, values out).
 *
 * Request, on `<root>/cmd/<name>`: a JSON object `{"id": "<request id>", "args": {…}}`.
 * `id` is required (1–128 printable characters): it names the request in the reply,
 * in `events` and in the log, and a repeated id is answered again without being
 * executed twice. On MQTT 5 the correlation data stands in for a missing `id`.
 *
 * Reply: `{"id","command","ok":true,"result"}` or `{"id","command","ok":false,"error"}`.
 * On MQTT 5 with a response topic it goes there, with the request's correlation data;
 * otherwise (3.1.1) to `<root>/cmd/<name>/reply`, where the `id` tells requests apart.
 */
import type { CommandReplyPayload } from '../uplink/topics.js';

/** Largest request accepted, in bytes. */
export const MAX_REQUEST_BYTES = 256 * 1024;

export interface ParsedRequest {
  id: string;
  args: Record<string, unknown>;
}

export type ParseResult = { ok: true; request: ParsedRequest } | { ok: false; id: string | null; error: string };

const ID = /^[\x21-\x7e]{1,128}$/;

/** Parse a request payload; `correlation` is the MQTT 5 correlation data, if any. */
export function parseRequest(payload: Buffer, correlation?: Buffer): ParseResult {
  const fallbackId = correlation && correlation.length > 0 ? correlationId(correlation) : null;
  if (payload.length > MAX_REQUEST_BYTES) {
    return { ok: false, id: fallbackId, error: `request too large: ${payload.length} bytes (at most ${MAX_REQUEST_BYTES})` };
  }
  let body: unknown;
  try {
    body = payload.length === 0 ? {} : JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, id: fallbackId, error: `payload is not JSON (${(err as Error).message}) — send {"id":"…","args":{…}}` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, id: fallbackId, error: 'payload must be a JSON object like {"id":"…","args":{…}}' };
  }
  const b = body as Record<string, unknown>;
  const id = b.id === undefined ? fallbackId : b.id;
  if (typeof id !== 'string' || !ID.test(id)) {
    const shown = id === null ? 'none' : JSON.stringify(id).slice(0, 40);
    return { ok: false, id: null, error: `request id missing or invalid (${shown}): give "id" as 1–128 printable characters, unique per request` };
  }
  const args = b.args ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { ok: false, id, error: '"args" must be a JSON object' };
  }
  const extra = Object.keys(b).filter((k) => k !== 'id' && k !== 'args');
  if (extra.length > 0) return { ok: false, id, error: `unknown keys ${extra.join(', ')} — put arguments under "args"` };
  return { ok: true, request: { id, args: args as Record<string, unknown> } };
}

/** Correlation data as an id: UTF-8 when printable, otherwise hex. */
export function correlationId(data: Buffer): string {
  const s = data.toString('utf8');
  return ID.test(s) ? s : data.toString('hex').slice(0, 128);
}

export function encodeReply(reply: CommandReplyPayload): string {
  return JSON.stringify(reply);
}

/**
 * The compact data encoding (docs/encoding.md): for metered links. A message is
 *
 *   byte 0      0xC1: a zlib stream (RFC 1950) of the CBOR follows; 0xC0: the CBOR itself
 *               (neither byte is ever valid UTF-8 nor `{`): "citygate compact, version 1"
 *   bytes 1..   one CBOR map (RFC 8949), compressed or not (whichever is smaller):
 *               g gateway, d device, r true (replayed; only when so),
 *               p point names, u unit names (per-message dictionaries),
 *               s seq deltas, t ts deltas (the first from 0), i point index,
 *               n unit ref (0 = none, k = u[k-1]), q quality (0 good, 1 uncertain, 2 bad),
 *               v value, x decimals (v is an integer mantissa: value = v / 10^x)
 *
 * Decoding gives exactly the JSON form of the same message (same fields, same numbers).
 * `encodeCompact` returns undefined for a message it cannot carry exactly (a ts that is
 * not a safe integer, an unknown quality, a string with a lone UTF-16 surrogate): the
 * caller sends that one as JSON. Pure.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { DataPayload, ReadingPayload } from '../topics.js';
import { CborError, decodeCbor, encodeCbor, type CborValue } from './cbor.js';

/** First byte of a compact v1 message: zlib-compressed CBOR follows. */
export const COMPACT_V1 = 0xc1;
/** First byte of a compact v1 message: uncompressed CBOR follows (tiny messages). */
export const COMPACT_V1_PLAIN = 0xc0;
/** The MQTT 5 content type of a compact message (JSON messages carry none). */
export const COMPACT_CONTENT_TYPE = 'application/vnd.citygate.compact.v1';
/** Largest inflated document the decoder accepts (a zlib bomb is refused, not followed). */
export const MAX_INFLATED = 64 * 1024 * 1024;

const QUALITIES = ['good', 'uncertain', 'bad'] as const;
const MAX_DECIMALS = 15;
const POW10 = Array.from({ length: MAX_DECIMALS + 1 }, (_, i) => 10 ** i);

/** A data message whose payload cannot be decoded: says why, never throws anything else. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** A number as (integer mantissa, decimals) when that is exact, else as itself with 0 decimals. */
function scaled(v: number): [number, number] {
  if (Number.isSafeInteger(v)) return [v === 0 ? 0 : v, 0];
  for (let d = 1; d <= MAX_DECIMALS; d++) {
    const m = Math.round(v * POW10[d]!);
    if (!Number.isSafeInteger(m)) break;
    if (m / POW10[d]! === v) return [m, d];
  }
  return [v, 0];
}

/** A lone UTF-16 surrogate has no UTF-8 form: such a string cannot go into CBOR text. */
const LONE_SURROGATE = /\p{Cs}/u;

export function encodeCompact(msg: DataPayload): Buffer | undefined {
  const cbor = compactDocument(msg);
  if (!cbor) return undefined;
  const z = deflateSync(cbor, { level: 9 });
  const body = z.length < cbor.length ? z : cbor;
  const out = Buffer.allocUnsafe(1 + body.length);
  out[0] = body === z ? COMPACT_V1 : COMPACT_V1_PLAIN;
  body.copy(out, 1);
  return out;
}

/** The CBOR document of the compact form (before byte 0 and zlib), or undefined (see encodeCompact). */
export function compactDocument(msg: DataPayload): Buffer | undefined {
  if (LONE_SURROGATE.test(msg.gateway) || LONE_SURROGATE.test(msg.device)) return undefined;
  const points = new Map<string, number>();
  const units = new Map<string, number>();
  const s: number[] = [];
  const t: number[] = [];
  const i: number[] = [];
  const n: number[] = [];
  const q: number[] = [];
  const v: CborValue[] = [];
  const x: number[] = [];
  let prevSeq = 0;
  let prevTs = 0;
  for (const r of msg.readings) {
    const ds = r.seq - prevSeq;
    const dt = r.ts - prevTs;
    if (!Number.isSafeInteger(r.seq) || !Number.isSafeInteger(r.ts) || !Number.isSafeInteger(ds) || !Number.isSafeInteger(dt)) return undefined;
    const qi = QUALITIES.indexOf(r.quality);
    if (qi < 0) return undefined;
    s.push(ds);
    t.push(dt);
    prevSeq = r.seq;
    prevTs = r.ts;
    let pi = points.get(r.point);
    if (pi === undefined) {
      if (LONE_SURROGATE.test(r.point)) return undefined;
      points.set(r.point, (pi = points.size));
    }
    i.push(pi);
    if (r.unit === undefined) n.push(0);
    else {
      let ui = units.get(r.unit);
      if (ui === undefined) {
        if (LONE_SURROGATE.test(r.unit)) return undefined;
        units.set(r.unit, (ui = units.size + 1));
      }
      n.push(ui);
    }
    q.push(qi);
    const val = r.value;
    if (typeof val === 'number') {
      // As in the JSON form: a number that is not finite is null.
      if (!Number.isFinite(val)) {
        v.push(null);
        x.push(0);
      } else {
        const [m, d] = scaled(val);
        v.push(m);
        x.push(d);
      }
    } else if (typeof val === 'string') {
      if (LONE_SURROGATE.test(val)) return undefined;
      v.push(val);
      x.push(0);
    } else if (typeof val === 'boolean' || val === null) {
      v.push(val);
      x.push(0);
    } else return undefined;
  }
  const doc = new Map<string, CborValue>([
    ['g', msg.gateway],
    ['d', msg.device],
  ]);
  if (msg.replay === true) doc.set('r', true);
  doc.set('p', [...points.keys()]);
  doc.set('u', [...units.keys()]);
  for (const [k, col] of [['s', s], ['t', t], ['i', i], ['n', n], ['q', q], ['v', v], ['x', x]] as const) doc.set(k, col);
  return encodeCbor(doc);
}

/** Decodes a compact message (first byte 0xC1 or 0xC0) into its JSON form. Throws DecodeError. */
export function decodeCompact(buf: Uint8Array): DataPayload {
  if (buf[0] !== COMPACT_V1 && buf[0] !== COMPACT_V1_PLAIN) throw new DecodeError(`not a compact v1 message: first byte ${hex(buf[0])}, expected 0xc1 or 0xc0`);
  let raw: Uint8Array;
  try {
    raw = buf[0] === COMPACT_V1_PLAIN ? buf.subarray(1) : inflateSync(buf.subarray(1), { maxOutputLength: MAX_INFLATED });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new DecodeError(
      code === 'ERR_BUFFER_TOO_LARGE' ? `compact message inflates beyond ${MAX_INFLATED} bytes` : `compact message: the zlib stream after byte 0 is damaged (${(err as Error).message})`,
    );
  }
  let doc: CborValue;
  try {
    doc = decodeCbor(raw);
  } catch (err) {
    if (err instanceof CborError) throw new DecodeError(`compact message: bad CBOR: ${err.message}`);
    throw err;
  }
  if (!(doc instanceof Map)) throw new DecodeError('compact message: the CBOR item is not a map');
  return fromDoc(doc);
}

function fromDoc(doc: Map<string, CborValue>): DataPayload {
  const text = (k: string): string => {
    const x = doc.get(k);
    if (typeof x !== 'string') throw new DecodeError(`compact message: "${k}" must be a text string`);
    return x;
  };
  const list = (k: string): CborValue[] => {
    const x = doc.get(k);
    if (!Array.isArray(x)) throw new DecodeError(`compact message: "${k}" must be an array`);
    return x;
  };
  const ints = (k: string, min: number, max: number): number[] => {
    const xs = list(k);
    for (const x of xs) if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) throw new DecodeError(`compact message: "${k}" holds ${describe(x)}, expected an integer in [${min}, ${max}]`);
    return xs as number[];
  };
  const names = (k: string): string[] => {
    const xs = list(k);
    for (const x of xs) if (typeof x !== 'string') throw new DecodeError(`compact message: "${k}" holds ${describe(x)}, expected text`);
    return xs as string[];
  };
  const gateway = text('g');
  const device = text('d');
  const replay = doc.get('r');
  if (replay !== undefined && replay !== true) throw new DecodeError('compact message: "r" must be true when present');
  const points = names('p');
  const units = names('u');
  const big = Number.MAX_SAFE_INTEGER;
  const s = ints('s', -big, big);
  const count = s.length;
  const t = ints('t', -big, big);
  const i = ints('i', 0, Math.max(0, points.length - 1));
  const n = ints('n', 0, units.length);
  const q = ints('q', 0, QUALITIES.length - 1);
  const v = list('v');
  const x = ints('x', 0, MAX_DECIMALS);
  for (const [k, col] of [['t', t], ['i', i], ['n', n], ['q', q], ['v', v], ['x', x]] as const) {
    if (col.length !== count) throw new DecodeError(`compact message: column "${k}" has ${col.length} entries, "s" has ${count}`);
  }
  if (count > 0 && points.length === 0) throw new DecodeError('compact message: readings but no point names');
  const readings: ReadingPayload[] = [];
  let seq = 0;
  let ts = 0;
  for (let k = 0; k < count; k++) {
    seq += s[k]!;
    ts += t[k]!;
    if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ts)) throw new DecodeError(`compact message: reading ${k}: seq or ts beyond 2^53 - 1`);
    const raw = v[k]!;
    const d = x[k]!;
    let value: ReadingPayload['value'];
    if (d > 0) {
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) throw new DecodeError(`compact message: reading ${k}: decimals ${d} need an integer value, got ${describe(raw)}`);
      value = raw / POW10[d]!;
    } else if (typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean' || raw === null) {
      value = typeof raw === 'number' && !Number.isFinite(raw) ? null : raw;
    } else throw new DecodeError(`compact message: reading ${k}: value is ${describe(raw)}`);
    const r: ReadingPayload = { seq, ts, point: points[i[k]!]!, value, quality: QUALITIES[q[k]!]! };
    const u = n[k]!;
    readings.push(u === 0 ? r : { seq, ts, point: r.point, value, unit: units[u - 1]!, quality: r.quality });
  }
  return replay ? { gateway, device, replay: true, readings } : { gateway, device, readings };
}

function describe(x: CborValue | undefined): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (x instanceof Map) return 'a map';
  if (Array.isArray(x)) return 'an array';
  if (x instanceof Uint8Array) return 'a byte string';
  return `${typeof x} ${JSON.stringify(x)}`;
}

export function hex(b: number | undefined): string {
  return b === undefined ? '(none: empty payload)' : `0x${b.toString(16).padStart(2, '0')}`;
}

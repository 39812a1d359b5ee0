/**
 * CBOR (RFC 8949) for the compact data encoding, on the cbor-x library, restricted to the
 * plain subset docs/encoding.md specifies so any CBOR library in any language reads it:
 * unsigned and negative integers (safe JS integers), float64, text strings, arrays, maps
 * with text keys, false/true/null. No records, no tags, no indefinite lengths, no packing.
 *
 * Encoding: cbor-x writes every integer up to 32 bits with the shortest head and every
 * other number as float64; a safe integer beyond 32 bits is handed over as a BigInt, which
 * it writes as a CBOR integer with an 8-byte argument (the shortest head there too).
 *
 * Decoding: untrusted bytes are first checked by `checkSubset` (no values are built: heads
 * only), which refuses what the format does not use (tags, indefinite lengths, undefined,
 * other simple values, non-text or duplicate map keys, invalid UTF-8, integers beyond
 * 2^53 - 1, nesting deeper than 16, lengths longer than the bytes left) with a `CborError`
 * saying where; only then does cbor-x build the values, so none of its tag extensions
 * (dates, regexps, shared structures, records) ever runs on our input. Byte strings (as
 * Buffer copies) and float16/float32 are accepted (other encoders may produce them). Pure.
 */
import { isUtf8 } from 'node:buffer';
import { Decoder, Encoder } from 'cbor-x';

export type CborValue = number | string | boolean | null | Uint8Array | CborValue[] | Map<string, CborValue>;

export class CborError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'CborError';
  }
}

/** cbor-x options the library reads but its Options type does not list. */
type CborXOptions = ConstructorParameters<typeof Encoder>[0] & { useTag259ForMaps?: boolean; int64AsNumber?: boolean };

const encoder = new Encoder({
  useRecords: false, // no record extension (tag 105 and friends)
  mapsAsObjects: false, // with true, cbor-x would wrap every Map in tag 259
  useTag259ForMaps: false,
  variableMapSize: true, // shortest map heads (objects; a Map always gets its exact count)
  tagUint8Array: false, // a Uint8Array is a plain byte string, not tag 64
  useFloat32: 0, // never float32: non-integers stay exact float64
  pack: false,
  bundleStrings: false,
  useSelfDescribedHeader: false,
  structuredClone: false,
  largeBigIntToFloat: true, // never reached (see wide()): but never tag 2/3 either
} as CborXOptions);

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false, copyBuffers: true, int64AsNumber: true } as CborXOptions);

/** Below 2^32 in magnitude cbor-x writes a number as an integer itself; beyond, as float64. */
const U32 = 0x1_0000_0000;

/**
 * Encodes `value`; numbers that are safe integers become CBOR integers, others float64
 * (-0 is the integer 0). Texts must be well-formed UTF-16: cbor-x writes a lone surrogate
 * as invalid UTF-8, which decodeCbor refuses (compactDocument never passes one: such a
 * message goes as JSON).
 */
export function encodeCbor(value: CborValue): Buffer {
  return encoder.encode(wide(value));
}

/** `v` with each safe integer beyond 32 bits as a BigInt (copying only containers that hold one). */
function wide(v: CborValue): unknown {
  if (typeof v === 'number') return wideNumber(v);
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let k = 0; k < v.length; k++) {
      const x = v[k]!;
      const w = typeof x === 'number' ? wideNumber(x) : typeof x === 'object' && x !== null ? wide(x) : x;
      if (out) out.push(w);
      else if (w !== x) (out = v.slice(0, k) as unknown[]).push(w);
    }
    return out ?? v;
  }
  if (v instanceof Map) {
    const out = new Map<string, unknown>();
    for (const [k, x] of v) out.set(k, wide(x));
    return out;
  }
  return v;
}

function wideNumber(x: number): number | bigint {
  return (x >= U32 || x < -U32) && Number.isSafeInteger(x) ? BigInt(x) : x;
}

/** Decodes exactly one CBOR item filling `buf`; maps become Map<string, …>. Throws CborError. */
export function decodeCbor(buf: Uint8Array): CborValue {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = checkSubset(bytes);
  if (end !== bytes.length) throw new CborError(`${bytes.length - end} bytes after the end of the CBOR item`, end);
  try {
    return decoder.decode(bytes) as CborValue;
  } catch (err) {
    // Not expected after checkSubset; any library error is still a CborError, never a crash.
    throw new CborError(`cbor-x: ${(err as Error).message}`, 0);
  }
}

/** Most nesting the decoder follows (the compact form needs 2). */
const MAX_DEPTH = 16;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const ARG_SIZES: Record<number, number> = { 24: 1, 25: 2, 26: 4, 27: 8 };

/**
 * Walks the heads of the one CBOR item at the start of `buf` and returns where it ends;
 * throws a CborError at the first thing outside the format's subset. Reads only heads and
 * key bytes: time and memory linear in the input.
 */
export function checkSubset(buf: Buffer): number {
  let pos = 0;
  const need = (k: number): void => {
    if (pos + k > buf.length) throw new CborError(`truncated: ${k} more bytes needed, ${buf.length - pos} left`, pos);
  };
  const arg = (info: number, at: number): number => {
    if (info < 24) return info;
    const size = ARG_SIZES[info];
    if (size === undefined) throw new CborError(info === 31 ? 'indefinite-length items are not used by this format' : `reserved additional information ${info}`, at);
    need(size);
    const p = pos;
    pos += size;
    if (size === 1) return buf[p]!;
    if (size === 2) return buf.readUInt16BE(p);
    if (size === 4) return buf.readUInt32BE(p);
    const big = buf.readBigUInt64BE(p);
    if (big > SAFE) throw new CborError(`integer ${big} is beyond 2^53 - 1`, at);
    return Number(big);
  };
  const item = (depth: number): void => {
    if (depth > MAX_DEPTH) throw new CborError(`nested deeper than ${MAX_DEPTH}`, pos);
    need(1);
    const at = pos;
    const ib = buf[pos++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    if (major === 0 || major === 1) return void arg(info, at);
    if (major === 2 || major === 3) {
      const len = arg(info, at);
      need(len);
      pos += len;
      if (major === 3 && !isUtf8(buf.subarray(pos - len, pos))) throw new CborError('text string is not valid UTF-8', at);
      return;
    }
    if (major === 4) {
      const len = arg(info, at);
      // Every item takes at least one byte: a length beyond what is left is a lie.
      if (len > buf.length - pos) throw new CborError(`array of ${len} items in ${buf.length - pos} bytes`, at);
      for (let i = 0; i < len; i++) item(depth + 1);
      return;
    }
    if (major === 5) {
      const len = arg(info, at);
      if (len * 2 > buf.length - pos) throw new CborError(`map of ${len} entries in ${buf.length - pos} bytes`, at);
      const keys = new Set<string>();
      for (let i = 0; i < len; i++) {
        const kAt = pos;
        need(1);
        if (buf[pos]! >> 5 !== 3) throw new CborError('map key is not a text string', kAt);
        item(depth + 1);
        const key = buf.toString('latin1', kAt + 1 + (ARG_SIZES[buf[kAt]! & 0x1f] ?? 0), pos);
        if (keys.has(key)) throw new CborError(`duplicate map key ${JSON.stringify(Buffer.from(key, 'latin1').toString('utf8'))}`, kAt);
        keys.add(key);
        item(depth + 1);
      }
      return;
    }
    if (major === 6) throw new CborError('tags are not used by this format', at);
    // Major type 7: false, true, null and floats only.
    if (info >= 20 && info <= 22) return;
    const size = ARG_SIZES[info];
    if (info >= 25 && size !== undefined) {
      need(size);
      pos += size;
      return;
    }
    throw new CborError(info === 31 ? 'unexpected "break"' : `simple value ${info} is not used by this format`, at);
  };
  item(0);
  return pos;
}

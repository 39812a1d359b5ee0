/**
 * The small subset of CBOR (RFC 8949) the compact data encoding uses, so citygate needs
 * no CBOR dependency: unsigned and negative integers (safe JS integers), float64, text
 * strings, arrays, maps with text keys, false/true/null. The decoder also accepts
 * float16/float32 and byte strings (any encoder may produce them) and refuses anything
 * else (indefinite lengths, tags, undefined) with a `CborError` saying where. Pure.
 */

export type CborValue = number | string | boolean | null | Uint8Array | CborValue[] | Map<string, CborValue>;

export class CborError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'CborError';
  }
}

/** Encodes `value`; numbers that are safe integers become CBOR integers, others float64. */
export function encodeCbor(value: CborValue): Buffer {
  const w = new Writer();
  w.value(value);
  return w.done();
}

class Writer {
  private buf = Buffer.allocUnsafe(1024);
  private n = 0;

  done(): Buffer {
    return this.buf.subarray(0, this.n);
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  /** A head: major type and argument (0 ≤ arg ≤ 2^53). */
  private head(major: number, arg: number): void {
    this.room(9);
    const m = major << 5;
    if (arg < 24) this.buf[this.n++] = m | arg;
    else if (arg < 0x100) {
      this.buf[this.n++] = m | 24;
      this.buf[this.n++] = arg;
    } else if (arg < 0x10000) {
      this.buf[this.n++] = m | 25;
      this.buf.writeUInt16BE(arg, this.n);
      this.n += 2;
    } else if (arg < 0x1_0000_0000) {
      this.buf[this.n++] = m | 26;
      this.buf.writeUInt32BE(arg, this.n);
      this.n += 4;
    } else {
      this.buf[this.n++] = m | 27;
      this.buf.writeBigUInt64BE(BigInt(arg), this.n);
      this.n += 8;
    }
  }

  value(v: CborValue): void {
    if (v === null) return this.byte(0xf6);
    if (v === false) return this.byte(0xf4);
    if (v === true) return this.byte(0xf5);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return v >= 0 ? this.head(0, v) : this.head(1, -1 - v);
      this.room(9);
      this.buf[this.n++] = 0xfb;
      this.buf.writeDoubleBE(v, this.n);
      this.n += 8;
      return;
    }
    if (typeof v === 'string') {
      const len = Buffer.byteLength(v);
      this.head(3, len);
      this.room(len);
      this.n += this.buf.write(v, this.n, 'utf8');
      return;
    }
    if (v instanceof Uint8Array) {
      this.head(2, v.length);
      this.room(v.length);
      this.buf.set(v, this.n);
      this.n += v.length;
      return;
    }
    if (Array.isArray(v)) {
      this.head(4, v.length);
      for (const x of v) this.value(x);
      return;
    }
    this.head(5, v.size);
    for (const [k, x] of v) {
      this.value(k);
      this.value(x);
    }
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.n++] = b;
  }
}

/** Most nesting the decoder follows (the compact form needs 2). */
const MAX_DEPTH = 16;

/** Decodes exactly one CBOR item filling `buf`; maps become Map<string, …>. */
export function decodeCbor(buf: Uint8Array): CborValue {
  const r = new Reader(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  const v = r.item(0);
  if (r.pos !== r.buf.length) throw new CborError(`${r.buf.length - r.pos} bytes after the end of the CBOR item`, r.pos);
  return v;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  private need(k: number): void {
    if (this.pos + k > this.buf.length) throw new CborError(`truncated: ${k} more bytes needed, ${this.buf.length - this.pos} left`, this.pos);
  }

  private arg(info: number, at: number): number {
    if (info < 24) return info;
    const sizes: Record<number, number> = { 24: 1, 25: 2, 26: 4, 27: 8 };
    const size = sizes[info];
    if (size === undefined) throw new CborError(info === 31 ? 'indefinite-length items are not used by this format' : `reserved additional information ${info}`, at);
    this.need(size);
    const p = this.pos;
    this.pos += size;
    if (size === 1) return this.buf[p]!;
    if (size === 2) return this.buf.readUInt16BE(p);
    if (size === 4) return this.buf.readUInt32BE(p);
    const big = this.buf.readBigUInt64BE(p);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError(`integer ${big} is beyond 2^53 - 1`, at);
    return Number(big);
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) throw new CborError(`nested deeper than ${MAX_DEPTH}`, this.pos);
    this.need(1);
    const at = this.pos;
    const ib = this.buf[this.pos++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0:
        return this.arg(info, at);
      case 1:
        return -1 - this.arg(info, at);
      case 2: {
        const len = this.arg(info, at);
        this.need(len);
        const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + len));
        this.pos += len;
        return out;
      }
      case 3: {
        const len = this.arg(info, at);
        this.need(len);
        const bytes = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        try {
          return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          throw new CborError('text string is not valid UTF-8', at);
        }
      }
      case 4: {
        const len = this.arg(info, at);
        // Every item takes at least one byte: a length beyond what is left is a lie.
        if (len > this.buf.length - this.pos) throw new CborError(`array of ${len} items in ${this.buf.length - this.pos} bytes`, at);
        const out: CborValue[] = [];
        for (let i = 0; i < len; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const len = this.arg(info, at);
        if (len * 2 > this.buf.length - this.pos) throw new CborError(`map of ${len} entries in ${this.buf.length - this.pos} bytes`, at);
        const out = new Map<string, CborValue>();
        for (let i = 0; i < len; i++) {
          const kAt = this.pos;
          const k = this.item(depth + 1);
          if (typeof k !== 'string') throw new CborError('map key is not a text string', kAt);
          if (out.has(k)) throw new CborError(`duplicate map key ${JSON.stringify(k)}`, kAt);
          out.set(k, this.item(depth + 1));
        }
        return out;
      }
      case 6:
        throw new CborError('tags are not used by this format', at);
      default:
        return this.simple(info, at);
    }
  }

  private simple(info: number, at: number): CborValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 25) {
      this.need(2);
      const v = halfToNumber(this.buf.readUInt16BE(this.pos));
      this.pos += 2;
      return v;
    }
    if (info === 26) {
      this.need(4);
      const v = this.buf.readFloatBE(this.pos);
      this.pos += 4;
      return v;
    }
    if (info === 27) {
      this.need(8);
      const v = this.buf.readDoubleBE(this.pos);
      this.pos += 8;
      return v;
    }
    throw new CborError(info === 31 ? 'unexpected "break"' : `simple value ${info} is not used by this format`, at);
  }
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Register codecs: typed values ⇄ 16-bit registers, for every type and byte/word
 * order. Pure functions, fuzzed by property tests (test/unit/modbus/codec.*).
 *
 * Orders are named by where the bytes of a big-endian value ABCD end up on the wire:
 * - ABCD  big-endian: registers most-significant first, high byte first (Modbus default)
 * - CDAB  word swap: registers least-significant first (many PLCs, Schneider)
 * - BADC  byte swap: registers in order, bytes within each swapped
 * - DCBA  little-endian: both swapped
 * For 64-bit values the same rule covers four registers (CDAB ⇒ GHEFCDAB). Strings
 * use the byte order only: two characters per register, NULs and trailing spaces trimmed.
 */
import type { Value } from '../../core/reading.js';

export const DATA_TYPES = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
export type DataType = (typeof DATA_TYPES)[number];

export const ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type Order = (typeof ORDERS)[number];

/** Friendly names integrators find in manuals, mapped to the canonical order. */
export const ORDER_ALIASES: Readonly<Record<string, Order>> = {
  ABCD: 'ABCD',
  CDAB: 'CDAB',
  BADC: 'BADC',
  DCBA: 'DCBA',
  big: 'ABCD',
  big_endian: 'ABCD',
  little: 'DCBA',
  little_endian: 'DCBA',
  word_swap: 'CDAB',
  little_word: 'CDAB',
  mid_little: 'CDAB',
  byte_swap: 'BADC',
  mid_big: 'BADC',
};

/** Combine separate byte_order / word_order settings ("big" | "little") into an Order. */
export function orderFrom(byteOrder: 'big' | 'little', wordOrder: 'big' | 'little'): Order {
  if (byteOrder === 'big') return wordOrder === 'big' ? 'ABCD' : 'CDAB';
  return wordOrder === 'big' ? 'BADC' : 'DCBA';
}

const swapsWords = (o: Order): boolean => o === 'CDAB' || o === 'DCBA';
const swapsBytes = (o: Order): boolean => o === 'BADC' || o === 'DCBA';

/** Registers a value of `type` occupies (`length` for strings). */
export function registerCount(type: DataType, length = 1): number {
  switch (type) {
    case 'bool':
    case 'int16':
    case 'uint16':
      return 1;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 4;
    case 'string':
      return length;
  }
}

/** The big-endian bytes of `regs` after undoing `order` (strings: byte order only). */
function toBigEndian(regs: ArrayLike<number>, order: Order, wordsToo: boolean): Buffer {
  const n = regs.length;
  const b = Buffer.allocUnsafe(n * 2); // every byte is written below; pooled, so cheap per point
  const ws = wordsToo && swapsWords(order);
  const bs = swapsBytes(order);
  for (let i = 0; i < n; i++) {
    const w = (regs[ws ? n - 1 - i : i] as number) & 0xffff;
    b[2 * i] = bs ? w & 0xff : w >> 8;
    b[2 * i + 1] = bs ? w >> 8 : w & 0xff;
  }
  return b;
}

function fromBigEndian(b: Buffer, order: Order, wordsToo: boolean): number[] {
  const n = b.length / 2;
  const ws = wordsToo && swapsWords(order);
  const bs = swapsBytes(order);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const hi = b[2 * i] as number;
    const lo = b[2 * i + 1] as number;
    out[ws ? n - 1 - i : i] = bs ? (lo << 8) | hi : (hi << 8) | lo;
  }
  return out;
}

/**
 * Decode `regs` (exactly registerCount(type) of them) as `type`. 64-bit integers
 * beyond ±2^53 lose precision as JS numbers: `exact` tells the caller so it can
 * mark the reading uncertain.
 */
export function decodeRegisters(regs: ArrayLike<number>, type: DataType, order: Order = 'ABCD'): { value: Value; exact: boolean } {
  const b = toBigEndian(regs, order, type !== 'string');
  switch (type) {
    case 'bool':
      return { value: b.readUInt16BE(0) !== 0, exact: true };
    case 'int16':
      return { value: b.readInt16BE(0), exact: true };
    case 'uint16':
      return { value: b.readUInt16BE(0), exact: true };
    case 'int32':
      return { value: b.readInt32BE(0), exact: true };
    case 'uint32':
      return { value: b.readUInt32BE(0), exact: true };
    case 'float32':
      return { value: b.readFloatBE(0), exact: true };
    case 'float64':
      return { value: b.readDoubleBE(0), exact: true };
    case 'int64': {
      const v = b.readBigInt64BE(0);
      return { value: Number(v), exact: v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) };
    }
    case 'uint64': {
      const v = b.readBigUInt64BE(0);
      return { value: Number(v), exact: v <= BigInt(Number.MAX_SAFE_INTEGER) };
    }
    case 'string':
      return { value: b.toString('latin1').replace(/\0.*$/s, '').trimEnd(), exact: true };
  }
}

/** A 64-bit integer exactly, as a bigint (for display where 2^53 is not enough). */
export function decodeBigInt(regs: ArrayLike<number>, signed: boolean, order: Order = 'ABCD'): bigint {
  const b = toBigEndian(regs, order, true);
  return signed ? b.readBigInt64BE(0) : b.readBigUInt64BE(0);
}

/** Bit `bit` (0 = least significant) of a register value as received. */
export function registerBit(reg: number, bit: number): boolean {
  return ((reg >> bit) & 1) === 1;
}

/**
 * Encode `value` as registers of `type` in `order`. Throws a RangeError a person can
 * read when the value does not fit the type (a write must never wrap silently).
 */
export function encodeRegisters(value: Value, type: DataType, order: Order = 'ABCD', length = 1): number[] {
  const n = registerCount(type, length);
  const b = Buffer.alloc(n * 2);
  const num = (): number => {
    const v = typeof value === 'boolean' ? Number(value) : typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(v) && !type.startsWith('float')) throw new RangeError(`${JSON.stringify(value)} is not a number`);
    return v;
  };
  const int = (lo: number, hi: number): number => {
    const v = num();
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${JSON.stringify(value)} does not fit ${type} (${lo} … ${hi})`);
    return v;
  };
  const big = (lo: bigint, hi: bigint): bigint => {
    let v: bigint;
    try {
      v = typeof value === 'string' ? BigInt(value) : BigInt(num());
    } catch {
      throw new RangeError(`${JSON.stringify(value)} is not an integer`);
    }
    if (v < lo || v > hi) throw new RangeError(`${JSON.stringify(value)} does not fit ${type}`);
    return v;
  };
  switch (type) {
    case 'bool':
      b.writeUInt16BE(value === true || value === 1 || value === 'true' ? 1 : int(0, 1));
      break;
    case 'int16':
      b.writeInt16BE(int(-0x8000, 0x7fff));
      break;
    case 'uint16':
      b.writeUInt16BE(int(0, 0xffff));
      break;
    case 'int32':
      b.writeInt32BE(int(-0x80000000, 0x7fffffff));
      break;
    case 'uint32':
      b.writeUInt32BE(int(0, 0xffffffff));
      break;
    case 'float32':
      b.writeFloatBE(num());
      break;
    case 'float64':
      b.writeDoubleBE(num());
      break;
    case 'int64':
      b.writeBigInt64BE(big(-(2n ** 63n), 2n ** 63n - 1n));
      break;
    case 'uint64':
      b.writeBigUInt64BE(big(0n, 2n ** 64n - 1n));
      break;
    case 'string': {
      const s = String(value);
      if (s.length > n * 2) throw new RangeError(`string of ${s.length} characters does not fit ${n} registers`);
      b.write(s, 'latin1');
      break;
    }
  }
  return fromBigEndian(b, order, type !== 'string');
}

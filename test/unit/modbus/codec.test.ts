import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRegisters, encodeRegisters, registerBit, registerCount, orderFrom, ORDERS, ORDER_ALIASES, type DataType, type Order } from '../../../src/drivers/modbus/codec.js';

const hex = (regs: number[]): string => regs.map((r) => r.toString(16).padStart(4, '0')).join(' ');

// Known vectors: value → registers per order. 32-bit: 0x11223344 etc.
const VECTORS: { type: DataType; value: number | string | boolean; regs: Record<Order, string>; length?: number }[] = [
  { type: 'uint16', value: 0x1234, regs: { ABCD: '1234', CDAB: '1234', BADC: '3412', DCBA: '3412' } },
  { type: 'int16', value: -2, regs: { ABCD: 'fffe', CDAB: 'fffe', BADC: 'feff', DCBA: 'feff' } },
  { type: 'bool', value: true, regs: { ABCD: '0001', CDAB: '0001', BADC: '0100', DCBA: '0100' } },
  { type: 'uint32', value: 0x11223344, regs: { ABCD: '1122 3344', CDAB: '3344 1122', BADC: '2211 4433', DCBA: '4433 2211' } },
  { type: 'int32', value: -123456789, regs: { ABCD: 'f8a4 32eb', CDAB: '32eb f8a4', BADC: 'a4f8 eb32', DCBA: 'eb32 a4f8' } },
  // 230.5 V as IEEE-754 float32 = 0x43668000 (what an SDM630 sends for a 230.5 V phase)
  { type: 'float32', value: 230.5, regs: { ABCD: '4366 8000', CDAB: '8000 4366', BADC: '6643 0080', DCBA: '0080 6643' } },
  { type: 'float32', value: -1.5, regs: { ABCD: 'bfc0 0000', CDAB: '0000 bfc0', BADC: 'c0bf 0000', DCBA: '0000 c0bf' } },
  {
    type: 'uint64',
    value: 0x0012345678abcdef,
    regs: { ABCD: '0012 3456 78ab cdef', CDAB: 'cdef 78ab 3456 0012', BADC: '1200 5634 ab78 efcd', DCBA: 'efcd ab78 5634 1200' },
  },
  {
    type: 'int64',
    value: -2,
    regs: { ABCD: 'ffff ffff ffff fffe', CDAB: 'fffe ffff ffff ffff', BADC: 'ffff ffff ffff feff', DCBA: 'feff ffff ffff ffff' },
  },
  // 1.0 as float64 = 0x3FF0000000000000
  { type: 'float64', value: 1, regs: { ABCD: '3ff0 0000 0000 0000', CDAB: '0000 0000 0000 3ff0', BADC: 'f03f 0000 0000 0000', DCBA: '0000 0000 0000 f03f' } },
  { type: 'float64', value: 123456.789, regs: { ABCD: '40fe 240c 9fbe 76c9', CDAB: '76c9 9fbe 240c 40fe', BADC: 'fe40 0c24 be9f c976', DCBA: 'c976 be9f 0c24 fe40' } },
  // Strings: byte order only, word order ignored.
  { type: 'string', value: 'SDM630', length: 4, regs: { ABCD: '5344 4d36 3330 0000', CDAB: '5344 4d36 3330 0000', BADC: '4453 364d 3033 0000', DCBA: '4453 364d 3033 0000' } },
];

describe('register codec vectors (every type × order)', () => {
  for (const v of VECTORS) {
    for (const order of ORDERS) {
      it(`${v.type} ${String(v.value)} ${order}`, () => {
        const regs = encodeRegisters(v.value, v.type, order, v.length);
        expect(hex(regs)).toBe(v.regs[order]);
        expect(regs).toHaveLength(registerCount(v.type, v.length));
        expect(decodeRegisters(regs, v.type, order).value).toBe(v.value);
      });
    }
  }

  it('covers every data type', () => {
    expect(new Set(VECTORS.map((v) => v.type))).toEqual(new Set(['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string']));
  });

  it('maps friendly names and byte/word settings to orders', () => {
    expect(ORDER_ALIASES.little).toBe('DCBA');
    expect(ORDER_ALIASES.word_swap).toBe('CDAB');
    expect(orderFrom('big', 'little')).toBe('CDAB');
    expect(orderFrom('little', 'big')).toBe('BADC');
    expect(orderFrom('little', 'little')).toBe('DCBA');
  });

  it('flags 64-bit integers that a JS number cannot hold exactly', () => {
    const regs = encodeRegisters('18446744073709551615', 'uint64');
    expect(hex(regs)).toBe('ffff ffff ffff ffff');
    expect(decodeRegisters(regs, 'uint64').exact).toBe(false);
    expect(decodeRegisters(encodeRegisters(2 ** 53 - 1, 'uint64'), 'uint64')).toEqual({ value: 2 ** 53 - 1, exact: true });
  });

  it('reads single bits, bit 0 = least significant', () => {
    expect(registerBit(0x8001, 0)).toBe(true);
    expect(registerBit(0x8001, 15)).toBe(true);
    expect(registerBit(0x8001, 1)).toBe(false);
  });

  it('refuses values that do not fit instead of wrapping', () => {
    expect(() => encodeRegisters(65536, 'uint16')).toThrow(/does not fit uint16/);
    expect(() => encodeRegisters(-1, 'uint32')).toThrow(/does not fit/);
    expect(() => encodeRegisters(1.5, 'int16')).toThrow(/does not fit/);
    expect(() => encodeRegisters('abcde', 'string', 'ABCD', 2)).toThrow(/does not fit 2 registers/);
    expect(() => encodeRegisters('x', 'int32')).toThrow(/not a number/);
  });

  it('trims NULs and trailing spaces of strings', () => {
    expect(decodeRegisters([0x4142, 0x2020], 'string').value).toBe('AB');
    expect(decodeRegisters([0x4100, 0x4343], 'string').value).toBe('A');
  });
});

describe('register codec properties', () => {
  const order = fc.constantFrom(...ORDERS);
  const cases: [DataType, fc.Arbitrary<number | bigint>][] = [
    ['int16', fc.integer({ min: -0x8000, max: 0x7fff })],
    ['uint16', fc.integer({ min: 0, max: 0xffff })],
    ['int32', fc.integer({ min: -0x80000000, max: 0x7fffffff })],
    ['uint32', fc.integer({ min: 0, max: 0xffffffff })],
    ['int64', fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })],
    ['uint64', fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })],
  ];
  for (const [type, arb] of cases) {
    it(`${type}: decode(encode(v)) == v for every order`, () => {
      fc.assert(
        fc.property(arb, order, (v, o) => {
          const regs = encodeRegisters(typeof v === 'bigint' ? v.toString() : v, type, o);
          const back = decodeRegisters(regs, type, o);
          if (typeof v === 'bigint') {
            expect(back.value).toBe(Number(v));
            expect(back.exact).toBe(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER));
          } else expect(back.value).toBe(v);
        }),
      );
    });
  }

  it('float32: any 32-bit pattern survives decode → encode (except NaN payloads)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), order, (a, b, o) => {
        const v = decodeRegisters([a, b], 'float32', o).value as number;
        if (Number.isNaN(v)) return;
        expect(encodeRegisters(v, 'float32', o)).toEqual([a, b]);
      }),
    );
  });

  it('float64: decode(encode(v)) == v', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), order, (v, o) => {
        expect(Object.is(decodeRegisters(encodeRegisters(v, 'float64', o), 'float64', o).value, v)).toBe(true);
      }),
    );
  });

  it('orders are permutations: the same registers never decode the same under ABCD and DCBA unless palindromic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const regs = encodeRegisters(v, 'uint32', 'ABCD');
        const swapped = decodeRegisters(regs, 'uint32', 'DCBA').value as number;
        const bytes = [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
        const reversed = ((bytes[3]! << 24) | (bytes[2]! << 16) | (bytes[1]! << 8) | bytes[0]!) >>> 0;
        expect(swapped).toBe(reversed);
      }),
    );
  });

  it('strings of latin1 letters round-trip in both byte orders', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{0,16}$/), fc.constantFrom<Order>('ABCD', 'BADC'), (s, o) => {
        expect(decodeRegisters(encodeRegisters(s, 'string', o, 8), 'string', o).value).toBe(s);
      }),
    );
  });
});

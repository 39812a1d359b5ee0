/**
 * The compact form's bytes do not change: golden vectors captured from citygate's own
 * hand-written CBOR encoder (before the switch to cbor-x; -0 aside, see below), for CBOR head-size edges,
 * floats, texts, whole messages, and 400 seeded random messages (as one SHA-256). A change
 * here is a wire-format change: docs/encoding.md and every consumer would need to know.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCbor, type CborValue } from '../../../src/uplink/encoding/cbor.js';
import { compactDocument, decodeCompact, encodeCompact } from '../../../src/uplink/encoding/compact.js';
import type { DataPayload } from '../../../src/uplink/topics.js';

/** Each integer on both sides of every CBOR head size, floats, -0, texts at the length edges. */
const scalars: [CborValue, string][] = [
  [0, '00'],
  [23, '17'],
  [24, '1818'],
  [255, '18ff'],
  [256, '190100'],
  [65535, '19ffff'],
  [65536, '1a00010000'],
  [2 ** 31 - 1, '1a7fffffff'],
  [2 ** 31, '1a80000000'],
  [2 ** 32 - 1, '1affffffff'],
  [2 ** 32, '1b0000000100000000'],
  [1_764_600_000_000, '1b0000019ada5b2e00'],
  [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
  [-1, '20'],
  [-24, '37'],
  [-25, '3818'],
  [-256, '38ff'],
  [-257, '390100'],
  [-65536, '39ffff'],
  [-65537, '3a00010000'],
  [-(2 ** 31), '3a7fffffff'],
  [-(2 ** 31) - 1, '3a80000000'],
  [-(2 ** 32), '3affffffff'],
  [-(2 ** 32) - 1, '3b0000000100000000'],
  [-Number.MAX_SAFE_INTEGER, '3b001ffffffffffffe'],
  [2 ** 53, 'fb4340000000000000'],
  [2 ** 60, 'fb43b0000000000000'],
  [-(2 ** 60), 'fbc3b0000000000000'],
  [1e21, 'fb444b1ae4d6e2ef50'],
  [0.5, 'fb3fe0000000000000'],
  [1.5, 'fb3ff8000000000000'],
  [0.1, 'fb3fb999999999999a'],
  [1 / 3, 'fb3fd5555555555555'],
  [-2.5, 'fbc004000000000000'],
  [5e-324, 'fb0000000000000001'],
  [Number.MAX_VALUE, 'fb7fefffffffffffff'],
  // The one change from the hand-written encoder (fb8000000000000000): cbor-x writes -0 as the
  // integer 0. The compact form never hands it -0 (a value -0 is the mantissa 0, as JSON prints it).
  [-0, '00'],
  [false, 'f4'],
  [true, 'f5'],
  [null, 'f6'],
  ['', '60'],
  ['a'.repeat(23), `77${'61'.repeat(23)}`],
  ['a'.repeat(24), `7818${'61'.repeat(24)}`],
  ['a'.repeat(256), `790100${'61'.repeat(256)}`],
  ['°C µS/cm 🌡', '6fc2b04320c2b5532f636d20f09f8ca1'],
  [[], '80'],
  [Array.from({ length: 24 }, () => 1), `9818${'01'.repeat(24)}`],
  [new Map(), 'a0'],
  [new Map<string, CborValue>([['__proto__', 1], ['b', [null, 'x']]]), 'a2695f5f70726f746f5f5f01616282f66178'],
];

/** The worked example of docs/encoding.md, a replayed message, an empty one. */
const messages: [DataPayload, string][] = [
  [
    {
      gateway: 'gw-12',
      device: 'pole-7',
      readings: [
        { seq: 1041, ts: 1764600000000, point: 'temp', value: 21.37, unit: 'degC', quality: 'good' },
        { seq: 1042, ts: 1764600000000, point: 'door', value: true, quality: 'good' },
        { seq: 1043, ts: 1764600010000, point: 'temp', value: 21.4, unit: 'degC', quality: 'uncertain' },
      ],
    },
    'c0ab61676567772d3132616466706f6c652d376170826474656d7064646f6f72617581646465674361738319041101016174831b0000019ada5b2e0000192710616983000100616e83010001617183000001617683190859f518d6617883020001',
  ],
  [
    {
      gateway: 'gw',
      device: 'd',
      replay: true,
      readings: [
        { seq: 9_007_199_254_740_000, ts: -5_000_000_000, point: 'x', value: -1e-7, quality: 'bad' },
        { seq: 9_007_199_254_740_991, ts: 4_102_444_800_000, point: 'y', value: 'open', unit: '%', quality: 'good' },
        { seq: 9_007_199_254_740_991, ts: 0, point: 'x', value: null, quality: 'uncertain' },
      ],
    },
    'c0ac6167626777616461646172f56170826178617961758161256173831b001ffffffffffc201903df006174833b000000012a05f1ff1b000003bc56c9ca003b000003bb2cc3d7ff616983000100616e8300010061718302000161768320646f70656ef6617883070000',
  ],
  [{ gateway: '', device: '', readings: [] }, 'c0ab616760616460617080617580617380617480616980616e80617180617680617880'],
];

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('temp_0', '°C', '__proto__', ''));
const value = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer({ min: -(2 ** 31) - 10, max: 2 ** 32 + 10 }),
  fc.maxSafeInteger(),
  fc.constantFrom(-0, 0.1, 21.37, 1e21, 5e-324, Number.MAX_SAFE_INTEGER, 2 ** 60, -(2 ** 32), -(2 ** 32) - 1, 2 ** 32),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => Math.round(f * 1000) / 1000),
  text,
  fc.boolean(),
  fc.constant(null),
);
const message: fc.Arbitrary<DataPayload> = fc
  .record({
    gateway: text,
    device: text,
    replay: fc.boolean(),
    seq: fc.maxSafeInteger(),
    readings: fc.array(
      fc.record({
        ds: fc.oneof(fc.constant(1), fc.integer({ min: -1e10, max: 1e10 })),
        ts: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: -1e13, max: 1e13 })),
        point: text,
        value,
        unit: fc.option(fc.constantFrom('degC', '%', 'kWh', 'm³/h', ''), { nil: undefined }),
        quality: fc.constantFrom('good', 'uncertain', 'bad' as const),
      }),
      { maxLength: 120 },
    ),
  })
  .map(({ gateway, device, replay, seq, readings }) => ({
    gateway,
    device,
    ...(replay ? { replay: true } : {}),
    readings: readings.map(({ ds, ts, point, value: v, unit, quality }) => {
      seq = Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, seq + ds));
      return unit === undefined ? { seq, ts, point, value: v, quality } : { seq, ts, point, value: v, unit, quality };
    }),
  }));

const hex = (b: Buffer | undefined): string => b?.toString('hex') ?? 'undefined';

describe('compact form bytes (golden vectors from the original encoder)', () => {
  it('writes each CBOR item as before: shortest integer heads, float64 for every non-integer', () => {
    expect(scalars.map(([v]) => hex(encodeCbor(v)))).toEqual(scalars.map(([, h]) => h));
  });

  it('writes whole messages as before (and decodes them back)', () => {
    expect(messages.map(([m]) => hex(encodeCompact(m)))).toEqual(messages.map(([, h]) => h));
    for (const [m] of messages) expect(decodeCompact(encodeCompact(m)!)).toEqual(m);
  });

  it('writes 400 seeded random messages byte for byte as before', () => {
    const h = createHash('sha256');
    let carried = 0;
    for (const m of fc.sample(message, { seed: 20261201, numRuns: 400 })) {
      const doc = compactDocument(m);
      if (!doc) continue;
      h.update(doc);
      carried++;
    }
    expect({ carried, sha256: h.digest('hex') }).toEqual({ carried: 400, sha256: 'cf8c2f6447527b0b2e809569abda823d5bec024ec506891162191d4a83940d3f' });
  });
});

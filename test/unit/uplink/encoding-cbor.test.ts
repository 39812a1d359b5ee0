/**
 * The CBOR layer on cbor-x (src/uplink/encoding/cbor.ts): round trips of every value the
 * format uses, and the subset check in front of the cbor-x decoder: what the format does
 * not use is refused with a CborError (and, through decodeCompact, a DecodeError), before
 * any cbor-x tag extension could run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CborError, decodeCbor, encodeCbor, type CborValue } from '../../../src/uplink/encoding/cbor.js';
import { COMPACT_V1_PLAIN, DecodeError, compactDocument, decodeCompact } from '../../../src/uplink/encoding/compact.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeInteger(),
    fc.integer(),
    fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
    fc.array(tie('v'), { maxLength: 6 }),
    fc.uniqueArray(fc.tuple(fc.string({ maxLength: 8 }), tie('v')), { maxLength: 5, selector: ([k]) => k }).map((es) => new Map(es)),
  ),
})).v;

function refusal(bytes: Buffer): string {
  try {
    decodeCbor(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(CborError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${bytes.toString('hex')}`);
}

describe('CBOR on cbor-x', () => {
  it('round-trips every value type the format uses (maps as Map, byte strings as Buffer)', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        expect(decodeCbor(encodeCbor(v))).toEqual(v);
      }),
      { numRuns: 400 },
    );
  });

  it('writes plain RFC 8949: no tags, no records, definite lengths, byte strings untagged', () => {
    expect(encodeCbor(new Map<string, CborValue>([['a', new Uint8Array([1, 2])], ['b', [1.5, 'x']]]))).toEqual(h('a2 6161 42 0102 6162 82 fb3ff8000000000000 6178'));
  });

  it('accepts what other encoders may write: float16, float32, byte strings', () => {
    expect(decodeCbor(h('83 f93e00 fa47c35000 43 010203'))).toEqual([1.5, 100000, Buffer.from([1, 2, 3])]);
    expect(decodeCbor(h('f97c00'))).toBe(Infinity);
  });

  const refused: [string, string, RegExp][] = [
    ['tag 1 (a date)', 'c1 1a 5f5e1000', /tags are not used/],
    ['tag 27 (cbor-x makes a RegExp of it)', 'd8 1b 83 66 526567457870 62 2e2a 61 67', /tags are not used/],
    ['the record extension (tag 105)', 'd8 69 82 00 80', /tags are not used/],
    ['a tag inside a map', 'a1 6167 c2 41 01', /tags are not used.*at byte 3/],
    ['an indefinite array', '9f 01 ff', /indefinite/],
    ['an indefinite text', '7f 6161 ff', /indefinite/],
    ['a lone break', 'ff', /unexpected "break"/],
    ['undefined', 'f7', /simple value 23/],
    ['simple value 16', 'f0', /simple value 16/],
    ['reserved additional information', '1c', /reserved additional information 28/],
    ['a uint64 beyond 2^53', '1b 0020000000000000', /beyond 2\^53/],
    ['a negative beyond -2^53', '3b 0020000000000000', /beyond 2\^53/],
    ['a text of 2^40 bytes declared', '7b 0000010000000000 61', /truncated/],
    ['a byte string longer than the input', '5a 00100000 00', /truncated/],
    ['an array of 2^32-1 items declared', '9a ffffffff 00', /array of 4294967295 items in 1 bytes/],
    ['a map of 2^31 entries declared', 'ba 80000000 6161 01', /map of 2147483648 entries/],
    ['a map with an integer key', 'a1 01 02', /map key is not a text string/],
    ['a map with a duplicate key', 'a2 6161 01 6161 02', /duplicate map key "a"/],
    ['invalid UTF-8', '62 c328', /not valid UTF-8/],
    ['a lone surrogate in UTF-8', '63 eda080', /not valid UTF-8/],
    ['bytes after the item', '01 02', /1 bytes after the end/],
    ['nothing', '', /truncated/],
    ['a truncated float64', 'fb 3ff0', /truncated/],
  ];
  for (const [name, hex, message] of refused) {
    it(`refuses ${name}`, () => {
      expect(refusal(h(hex))).toMatch(message);
    });
  }

  it('refuses deep nesting without recursing into it (100 000 nested arrays)', () => {
    expect(refusal(Buffer.alloc(100_000, 0x81))).toMatch(/nested deeper than 16/);
  });

  it('refuses every truncation of a real document as bad CBOR', () => {
    const cbor = compactDocument({ gateway: 'gw', device: 'd', readings: Array.from({ length: 5 }, (_, i) => ({ seq: i + 1, ts: 1_764_600_000_000 + i, point: 'p', value: i / 3, unit: '°C', quality: 'good' as const })) })!;
    const doc = Buffer.concat([Buffer.from([COMPACT_V1_PLAIN]), cbor]);
    expect(decodeCompact(doc).readings).toHaveLength(5);
    for (let end = 1; end < doc.length; end++) {
      let caught: unknown;
      try {
        decodeCompact(doc.subarray(0, end));
      } catch (err) {
        caught = err;
      }
      expect(caught, `cut at ${end}`).toBeInstanceOf(DecodeError);
      expect((caught as Error).message).toMatch(/bad CBOR: (truncated|map of \d+ entries in|array of \d+ items in)/);
    }
  });

  it('gives a DecodeError, not a cbor-x object, for a compact message holding a tag', () => {
    const withTag = Buffer.concat([Buffer.from([COMPACT_V1_PLAIN]), h('a1 6167 c1 1a 5f5e1000')]);
    expect(() => decodeCompact(withTag)).toThrow(/compact message: bad CBOR: tags are not used/);
  });
});

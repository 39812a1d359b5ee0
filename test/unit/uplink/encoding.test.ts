import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataMessage, readingJson } from '../../../src/buffer/codec.js';
import type { StoredBatch } from '../../../src/buffer/buffer.js';
import type { Reading } from '../../../src/core/reading.js';
import { buildMessages } from '../../../src/uplink/batcher.js';
import { encodeCbor } from '../../../src/uplink/encoding/cbor.js';
import { COMPACT_V1, COMPACT_V1_PLAIN, decodeCompact, encodeCompact } from '../../../src/uplink/encoding/compact.js';
import { DecodeError, decodeDataPayload } from '../../../src/uplink/encoding/decode.js';
import type { DataPayload } from '../../../src/uplink/topics.js';

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('temp_0', 'hum_1', '°C', '__proto__', ''));
const value = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0.1, 21.37, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, 2 ** 60),
  fc.float({ noNaN: true }).map((f) => Math.round(f * 100) / 100),
  text,
  fc.boolean(),
  fc.constant(null),
);
const reading = fc.record({
  point: text,
  value,
  unit: fc.option(fc.constantFrom('degC', '%', 'kWh', 'm³/h', '', 'µS/cm'), { nil: undefined }),
  ts: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: -1e12, max: 1e12 })),
  quality: fc.constantFrom('good', 'uncertain', 'bad' as const),
});
const batch = fc.record({
  gateway: text,
  device: text,
  replay: fc.boolean(),
  firstSeq: fc.oneof(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: Number.MAX_SAFE_INTEGER - 1e6, max: Number.MAX_SAFE_INTEGER - 300 })),
  readings: fc.array(reading, { minLength: 1, maxLength: 250 }),
  rowSize: fc.integer({ min: 1, max: 120 }),
  gaps: fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 4 }),
});

/** Rows as the buffer stores them (the JSON bodies readingJson makes), seqs rising per row. */
type Batch = typeof batch extends fc.Arbitrary<infer T> ? T : never;

function rowsOf(b: Batch): StoredBatch[] {
  const rows: StoredBatch[] = [];
  let seq = b.firstSeq;
  for (let i = 0, k = 0; i < b.readings.length; i += b.rowSize, k++) {
    const chunk = b.readings.slice(i, i + b.rowSize);
    const first = seq;
    const json = chunk.map((r, j) => readingJson({ device: b.device, ...r } as Reading, first + j)).join(',');
    rows.push({ id: first, device: b.device, firstSeq: first, lastSeq: first + chunk.length - 1, count: chunk.length, json });
    seq += chunk.length + Math.min(b.gaps[k] ?? 0, Math.max(0, Number.MAX_SAFE_INTEGER - seq - 500));
  }
  return rows;
}

describe('compact encoding', () => {
  it('round-trips random batches: encode → decode = the JSON form, message by message', () => {
    fc.assert(
      fc.property(batch, fc.integer({ min: 1, max: 200 }), (b, maxReadings) => {
        const rows = rowsOf(b);
        const json = buildMessages(b.gateway, rows, maxReadings, 1 << 20, { replay: b.replay });
        const compact = buildMessages(b.gateway, rows, maxReadings, 1 << 20, { encoding: 'compact', replay: b.replay });
        expect(compact.length).toBe(json.length);
        compact.forEach((m, k) => {
          const decoded = decodeDataPayload(m.payload);
          expect(JSON.stringify(decoded)).toBe(json[k]!.payload);
          expect(m.ackRows).toEqual(json[k]!.ackRows);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('encodeCompact → decodeCompact gives the message back (negative ts deltas, huge seqs, every value type)', () => {
    fc.assert(
      fc.property(batch, (b) => {
        const msg: DataPayload = {
          gateway: b.gateway,
          device: b.device,
          ...(b.replay ? { replay: true } : {}),
          readings: (JSON.parse(`[${rowsOf(b).map((r) => r.json).join(',')}]`) as DataPayload['readings']).reverse(),
        };
        const enc = encodeCompact(msg);
        const wellFormed = ![msg.gateway, msg.device, ...msg.readings.flatMap((r) => [r.point, r.unit ?? '', typeof r.value === 'string' ? r.value : ''])].some((s) => /\p{Cs}/u.test(s));
        if (!wellFormed) return expect(enc).toBeUndefined();
        expect(enc).toBeDefined();
        expect([COMPACT_V1, COMPACT_V1_PLAIN]).toContain(enc![0]);
        expect(JSON.stringify(decodeCompact(enc!))).toBe(JSON.stringify(msg));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps numbers exact: decimals as mantissa / 10^x, anything else as float64', () => {
    const values = [0.1, 0.2 + 0.1, 21.37, -3.5e-9, 123456789.123, 1e21, 5e-324, Number.MAX_VALUE, 1 / 3, -0];
    const msg: DataPayload = { gateway: 'g', device: 'd', readings: values.map((value, i) => ({ seq: i + 1, ts: 1000 - i, point: 'p', value, quality: 'good' })) };
    const back = decodeCompact(encodeCompact(msg)!);
    expect(back.readings.map((r) => r.value)).toEqual(values.map((v) => (Object.is(v, -0) ? 0 : v)));
  });

  it('is under 25 B per reading for a 100-point poll (payload alone)', () => {
    const rows: StoredBatch[] = [];
    const bodies = Array.from({ length: 100 }, (_, p) =>
      readingJson({ device: 'pole', point: `${['temp', 'hum', 'energy'][p % 3]}_${Math.floor(p / 3)}`, value: Math.round(Math.sin(p) * 1e4) / 100, unit: ['degC', '%', 'kWh'][p % 3], ts: 1_764_600_000_000, quality: 'good' }, 500_000 + p),
    );
    rows.push({ id: 500_000, device: 'pole', firstSeq: 500_000, lastSeq: 500_099, count: 100, json: bodies.join(',') });
    const [m] = buildMessages('gw-0042', rows, 100, 1 << 20, { encoding: 'compact' });
    expect(m!.payload.length / 100).toBeLessThan(25);
    expect(Buffer.byteLength(dataMessage('gw-0042', 'pole', bodies)) / m!.payload.length).toBeGreaterThan(4);
  });
});

describe('decoder on garbage', () => {
  const good = encodeCompact({ gateway: 'g', device: 'd', readings: Array.from({ length: 40 }, (_, i) => ({ seq: i + 1, ts: i, point: `p${i % 7}`, value: i / 4, unit: 'V', quality: 'good' as const })) })!;
  const doc = (entries: [string, unknown][]): Buffer => Buffer.concat([Buffer.from([COMPACT_V1_PLAIN]), encodeCbor(new Map(entries) as never)]);
  const base: [string, unknown][] = [['g', 'g'], ['d', 'd'], ['p', ['a']], ['u', []], ['s', [1]], ['t', [5]], ['i', [0]], ['n', [0]], ['q', [0]], ['v', [1]], ['x', [0]]];
  const cases: [string, Uint8Array | string, RegExp][] = [
    ['empty', Buffer.alloc(0), /first byte \(none/],
    ['unknown first byte', Buffer.from([0x42, 1, 2]), /first byte 0x42/],
    ['plain text', 'hello', /first byte 0x68/],
    ['broken JSON', '{"gateway":', /does not parse/],
    ['JSON of another shape', '{"a":1}', /"gateway" and "device"/],
    ['JSON reading without seq', '{"gateway":"g","device":"d","readings":[{"ts":1}]}', /reading 0 lacks/],
    ['truncated zlib', good.subarray(0, good.length - 7), /zlib stream .* damaged/],
    ['flipped zlib byte', Buffer.from(good.map((b, i) => (i === 20 ? b ^ 0xff : b))), /zlib|CBOR|compact message/],
    ['zlib of not-CBOR', Buffer.concat([Buffer.from([COMPACT_V1]), deflateSync(Buffer.from([0xff, 0xff]))]), /bad CBOR/],
    ['zlib bomb', Buffer.concat([Buffer.from([COMPACT_V1]), deflateSync(Buffer.alloc(70 * 1024 * 1024))]), /inflates beyond/],
    ['CBOR not a map', Buffer.concat([Buffer.from([COMPACT_V1_PLAIN]), encodeCbor([1, 2])]), /not a map/],
    ['array length lie', Buffer.from([COMPACT_V1_PLAIN, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /beyond 2\^53|map of/],
    ['indefinite length', Buffer.from([COMPACT_V1_PLAIN, 0xbf, 0xff]), /indefinite/],
    ['trailing bytes', Buffer.concat([doc(base), Buffer.from([0])]), /after the end/],
    ['missing column', doc(base.filter(([k]) => k !== 'q')), /"q" must be an array/],
    ['short column', doc(base.map(([k, v]) => (k === 't' ? [k, []] : [k, v]))), /column "t" has 0 entries/],
    ['point index out of range', doc(base.map(([k, v]) => (k === 'i' ? [k, [3]] : [k, v]))), /"i" holds number 3/],
    ['quality out of range', doc(base.map(([k, v]) => (k === 'q' ? [k, [7]] : [k, v]))), /"q" holds number 7/],
    ['decimals on text', doc(base.map(([k, v]) => (k === 'x' ? [k, [2]] : k === 'v' ? [k, ['x']] : [k, v]))), /decimals 2 need an integer/],
    ['replay not true', doc([...base, ['r', false]]), /"r" must be true/],
    ['seq overflow', doc(base.map(([k, v]) => (k === 's' ? [k, [Number.MAX_SAFE_INTEGER, 5]] : k === 't' || k === 'i' || k === 'n' || k === 'q' || k === 'v' || k === 'x' ? [k, [(v as number[])[0], (v as number[])[0]]] : [k, v]))), /beyond 2\^53/],
  ];
  for (const [name, payload, message] of cases) {
    it(`refuses ${name} with a DecodeError`, () => {
      let caught: unknown;
      try {
        decodeDataPayload(payload);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DecodeError);
      expect((caught as Error).message).toMatch(message);
    });
  }

  it('never throws anything but DecodeError on random bytes and mutations', () => {
    const mutated = fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => Buffer.from(good.map((b, k) => (k === i ? b ^ x : b))));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from([fc.sample(fc.constantFrom(COMPACT_V1, COMPACT_V1_PLAIN), 1)[0]!, ...a])), mutated), (buf) => {
        try {
          decodeDataPayload(buf);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * Random bytes never throw, never stall and never grow memory: after any garbage, the
 * decoder holds at most one frame's (or line's) worth of bytes and still decodes the
 * good frames that follow.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPms5003Decoder } from '../../../src/drivers/serial/protocols/pms5003.js';
import { createSds011Decoder } from '../../../src/drivers/serial/protocols/sds011.js';
import { createNmeaDecoder, MAX_SENTENCE } from '../../../src/drivers/serial/protocols/nmea.js';
import { LinesDecoder } from '../../../src/drivers/serial/protocols/lines.js';
import type { Decoder } from '../../../src/drivers/serial/protocols/types.js';
import { NMEA_SENTENCES, PMS5003_FRAMES, SDS011_FRAMES, concat } from './fixtures.js';

const text = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

interface Case {
  make: () => Decoder<unknown>;
  maxBuffered: number;
  /** Bytes that must yield at least one frame after any garbage. */
  recover: Uint8Array;
  /** Biased garbage: the protocol's own start bytes, to provoke false starts. */
  alphabet: number[];
}

const CASES: Record<string, Case> = {
  pms5003: {
    make: createPms5003Decoder,
    maxBuffered: 31,
    recover: concat(PMS5003_FRAMES[0]!.bytes, PMS5003_FRAMES[1]!.bytes),
    alphabet: [0x42, 0x4d, 0x00, 0x1c],
  },
  sds011: {
    make: createSds011Decoder,
    maxBuffered: 9,
    recover: concat(SDS011_FRAMES[0]!.bytes, SDS011_FRAMES[1]!.bytes),
    alphabet: [0xaa, 0xc0, 0xc5, 0xab],
  },
  nmea: {
    make: createNmeaDecoder,
    maxBuffered: MAX_SENTENCE,
    recover: text(`\r\n${NMEA_SENTENCES[0]}\r\n`),
    alphabet: [0x24, 0x2a, 0x2c, 0x0d, 0x0a, 0x47],
  },
  lines: {
    make: () => new LinesDecoder({ regex: '^(?<v>\\d+)$', max_line: 64 }),
    maxBuffered: 64,
    recover: text('\n123\n'),
    alphabet: [0x0a, 0x0d, 0x31, 0x20],
  },
};

const garbage = (alphabet: number[]) =>
  fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...alphabet)), { maxLength: 600 }).map((a) => Uint8Array.from(a));

describe.each(Object.entries(CASES))('%s: fuzz', (_name, c) => {
  it('random chunks never throw and keep memory bounded', () => {
    fc.assert(
      fc.property(fc.array(garbage(c.alphabet), { maxLength: 8 }), (chunks) => {
        const d = c.make();
        for (const chunk of chunks) {
          d.push(chunk);
          expect(d.buffered).toBeLessThanOrEqual(c.maxBuffered);
        }
        const total = chunks.reduce((n, ch) => n + ch.length, 0);
        expect(d.counters.bytes_discarded).toBeLessThanOrEqual(total);
      }),
      { numRuns: 300 },
    );
  });

  it('recovers: good frames after any garbage are decoded', () => {
    fc.assert(
      fc.property(garbage(c.alphabet), (g) => {
        const d = c.make();
        d.push(g);
        const before = d.counters.frames_ok;
        expect(d.push(c.recover).length).toBeGreaterThanOrEqual(1);
        expect(d.counters.frames_ok).toBeGreaterThan(before);
      }),
      { numRuns: 300 },
    );
  });

  it('a megabyte of noise is processed in bounded time and memory', () => {
    const d = c.make();
    const noise = new Uint8Array(1 << 20);
    let x = 12345;
    for (let i = 0; i < noise.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      noise[i] = x >>> 24;
    }
    const t0 = performance.now();
    for (let i = 0; i < noise.length; i += 4096) d.push(noise.subarray(i, i + 4096));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(d.buffered).toBeLessThanOrEqual(c.maxBuffered);
    expect(d.push(c.recover).length).toBeGreaterThanOrEqual(1);
  });
});

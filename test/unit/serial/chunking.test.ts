/**
 * Chunk boundaries must not matter: a serial read can end anywhere. Each recorded
 * stream (good frames, corrupted frames, garbage) is decoded whole, split in two at every
 * byte boundary, fed one byte at a time, and cut at random points; frames and counters
 * must be identical every time.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createProtocol } from '../../../src/drivers/serial/protocols/index.js';
import type { ProtocolName } from '../../../src/drivers/serial/points.js';
import { GARBAGE, LINES_STREAM, NMEA_STREAM, PMS5003_FRAMES, SDS011_FRAMES, SDS011_REPLY, concat } from './fixtures.js';

function corrupt(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at] = (c[at] as number) ^ 0x10;
  return c;
}

const [P1, P2] = PMS5003_FRAMES.map((f) => f.bytes) as [Uint8Array, Uint8Array];
const [S1, S2] = SDS011_FRAMES.map((f) => f.bytes) as [Uint8Array, Uint8Array];

const STREAMS: Record<ProtocolName, { stream: Uint8Array; frames: number }> = {
  pms5003: { stream: concat(GARBAGE, P1, corrupt(P2, 12), P2, P2.subarray(0, 9), GARBAGE, P1, P2), frames: 4 },
  sds011: { stream: concat(S1.subarray(3), S2, corrupt(S1, 4), SDS011_REPLY, GARBAGE, S1, S2, S1), frames: 5 },
  nmea: { stream: concat(NMEA_STREAM.subarray(20), GARBAGE, corrupt(NMEA_STREAM, 30), NMEA_STREAM), frames: 8 + 8 + 9 },
  lines: { stream: concat(LINES_STREAM.subarray(5), GARBAGE, new Uint8Array(300).fill(0x41), LINES_STREAM), frames: 6 },
};
const OPTIONS = { lines: { regex: '^T=(?<temperature>-?\\d+(\\.\\d+)?) RH=(?<humidity>\\d+)' } };

function decode(name: ProtocolName, chunks: Uint8Array[]) {
  const p = createProtocol(name, OPTIONS);
  const frames = chunks.flatMap((c) => p.push(c, 0));
  return { frames, counters: { ...p.counters() } };
}

function cutAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    out.push(stream.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe.each(Object.keys(STREAMS) as ProtocolName[])('%s: chunking', (name) => {
  const { stream, frames } = STREAMS[name];
  const whole = decode(name, [stream]);

  it('decodes the recorded stream whole', () => {
    expect(whole.counters.frames_ok).toBe(frames);
    expect(whole.frames.length).toBeGreaterThan(0);
    expect(whole.counters.bytes_discarded).toBeGreaterThan(0);
    expect(whole.counters.resyncs).toBeGreaterThan(0);
  });

  it('gives the same frames and counters split at every byte boundary', () => {
    for (let k = 0; k <= stream.length; k++) {
      expect(decode(name, [stream.subarray(0, k), stream.subarray(k)]), `split at ${k}`).toEqual(whole);
    }
  });

  it('gives the same result one byte at a time', () => {
    expect(decode(name, Array.from(stream, (_, i) => stream.subarray(i, i + 1)))).toEqual(whole);
  });

  it('gives the same result for any random chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(decode(name, cutAt(stream, cuts))).toEqual(whole);
      }),
    );
  });

  it('merged: the stream repeated in one chunk gives each frame twice', () => {
    const twice = decode(name, [concat(stream, stream)]);
    expect(twice.frames.length).toBe(2 * whole.frames.length);
  });
});

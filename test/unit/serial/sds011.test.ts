import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSds011Decoder, encodeSds011 } from '../../../src/drivers/serial/protocols/sds011.js';
import { concat, GARBAGE, SDS011_FRAMES, SDS011_REPLY } from './fixtures.js';

const [F1, F2] = SDS011_FRAMES as [(typeof SDS011_FRAMES)[0], (typeof SDS011_FRAMES)[0]];
const data = (v: { pm2_5: number; pm10: number }) => ({ kind: 'data', ...v, sensor_id: 0xa160 });

describe('sds011 decoder', () => {
  it('decodes the datasheet example and a recorded frame', () => {
    const d = createSds011Decoder();
    expect(d.push(concat(F1.bytes, F2.bytes))).toEqual([data(F1.values), data(F2.values)]);
    expect(d.counters).toEqual({ frames_ok: 2, checksum_failures: 0, resyncs: 0, bytes_discarded: 0 });
  });

  it('accepts command replies as good frames without a measurement', () => {
    const d = createSds011Decoder();
    expect(d.push(concat(SDS011_REPLY, F1.bytes))).toEqual([{ kind: 'reply', command: 2, data: [2, 1, 0, 0, 0xa1, 0x60] }, data(F1.values)]);
    expect(d.counters.frames_ok).toBe(2);
  });

  it('counts a checksum failure and recovers on the next frame', () => {
    const bad = F1.bytes.slice();
    bad[8] = 0x00;
    const d = createSds011Decoder();
    expect(d.push(concat(bad, F2.bytes))).toEqual([data(F2.values)]);
    expect(d.counters).toMatchObject({ frames_ok: 1, checksum_failures: 1, resyncs: 1, bytes_discarded: 10 });
  });

  it('a missing tail byte is a framing error, not a checksum failure', () => {
    const bad = F1.bytes.slice();
    bad[9] = 0xaa;
    const d = createSds011Decoder();
    expect(d.push(concat(bad, F2.bytes))).toEqual([data(F2.values)]);
    expect(d.counters.checksum_failures).toBe(0);
    expect(d.counters.bytes_discarded).toBe(10);
  });

  it('resynchronises after garbage with false headers', () => {
    const d = createSds011Decoder();
    expect(d.push(concat(GARBAGE, F1.bytes, GARBAGE, F2.bytes))).toEqual([data(F1.values), data(F2.values)]);
    expect(d.counters.resyncs).toBe(2);
    expect(d.counters.bytes_discarded).toBe(2 * GARBAGE.length);
  });

  it('round-trips values at 0.1 µg/m³ resolution', () => {
    const v = fc.integer({ min: 0, max: 0xffff }).map((n) => n / 10);
    fc.assert(
      fc.property(v, v, fc.integer({ min: 0, max: 0xffff }), (pm25, pm10, id) => {
        const d = createSds011Decoder();
        expect(d.push(encodeSds011(pm25, pm10, id))).toEqual([{ kind: 'data', pm2_5: pm25, pm10, sensor_id: id }]);
      }),
    );
  });
});

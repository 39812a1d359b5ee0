import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPms5003Decoder, encodePms5003, type Pms5003Frame } from '../../../src/drivers/serial/protocols/pms5003.js';
import { concat, GARBAGE, PMS5003_FRAMES } from './fixtures.js';

const [F1, F2] = PMS5003_FRAMES as [(typeof PMS5003_FRAMES)[0], (typeof PMS5003_FRAMES)[0]];

describe('pms5003 decoder', () => {
  it('decodes recorded frames to the datasheet fields', () => {
    const d = createPms5003Decoder();
    expect(d.push(concat(F1.bytes, F2.bytes))).toEqual([F1.values, F2.values]);
    expect(d.counters).toEqual({ frames_ok: 2, checksum_failures: 0, resyncs: 0, bytes_discarded: 0 });
    expect(d.buffered).toBe(0);
  });

  it('rejects a frame with a bad checksum, counts it, and decodes the next one', () => {
    const bad = F1.bytes.slice();
    bad[13] = (bad[13] as number) ^ 0x01; // flip one bit of PM2.5 (atmospheric)
    const d = createPms5003Decoder();
    expect(d.push(concat(bad, F2.bytes))).toEqual([F2.values]);
    expect(d.counters.checksum_failures).toBe(1);
    expect(d.counters.resyncs).toBe(1);
    expect(d.counters.bytes_discarded).toBe(32);
    expect(d.counters.frames_ok).toBe(1);
  });

  it('rejects a wrong length field without calling it a checksum failure', () => {
    const bad = F1.bytes.slice();
    bad[3] = 20; // a PMS3003 24-byte frame header
    const d = createPms5003Decoder();
    expect(d.push(concat(bad, F1.bytes))).toEqual([F1.values]);
    expect(d.counters.checksum_failures).toBe(0);
    expect(d.counters.bytes_discarded).toBe(32);
  });

  it('resynchronises after garbage holding false headers, counting one resync per run', () => {
    const d = createPms5003Decoder();
    const frames = d.push(concat(GARBAGE, F1.bytes, GARBAGE, GARBAGE, F2.bytes));
    expect(frames).toEqual([F1.values, F2.values]);
    expect(d.counters.resyncs).toBe(2);
    expect(d.counters.bytes_discarded).toBe(3 * GARBAGE.length);
  });

  it('finds a frame that starts inside a truncated one', () => {
    const d = createPms5003Decoder();
    // A frame cut off after 17 bytes (sensor power glitch), then a whole frame.
    expect(d.push(concat(F2.bytes.subarray(0, 17), F1.bytes))).toEqual([F1.values]);
    expect(d.counters.frames_ok).toBe(1);
    expect(d.counters.bytes_discarded).toBe(17);
  });

  it('holds a partial frame until the rest arrives', () => {
    const d = createPms5003Decoder();
    expect(d.push(F1.bytes.subarray(0, 31))).toEqual([]);
    expect(d.buffered).toBe(31);
    expect(d.push(F1.bytes.subarray(31))).toEqual([F1.values]);
    expect(d.buffered).toBe(0);
  });

  it('round-trips any u16 values through the encoder', () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    const frame = fc.record<Pms5003Frame>({
      pm1_0_cf1: u16, pm2_5_cf1: u16, pm10_cf1: u16, pm1_0: u16, pm2_5: u16, pm10: u16,
      particles_0_3um: u16, particles_0_5um: u16, particles_1_0um: u16, particles_2_5um: u16, particles_5_0um: u16, particles_10um: u16,
    });
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 5 }), (fs) => {
        const d = createPms5003Decoder();
        expect(d.push(concat(...fs.map((f) => encodePms5003(f))))).toEqual(fs);
        expect(d.counters.bytes_discarded).toBe(0);
      }),
    );
  });

  it('the encoder reproduces the recorded bytes', () => {
    expect(Buffer.from(encodePms5003(F1.values)).toString('hex')).toBe(Buffer.from(F1.bytes).toString('hex'));
  });
});

/**
 * Plantower PMS5003 (also PMS7003, PMSA003: same 32-byte frame) in active mode.
 *
 * Frame (Plantower PMS5003 datasheet, "Transport protocol — Active mode"):
 *   0x42 0x4D | length = 28 (u16 BE) | 13 × u16 BE data | checksum (u16 BE)
 * checksum = sum of bytes 0..29. Data words:
 *   1–3  PM1.0 / PM2.5 / PM10, µg/m³, "CF=1, standard particle" (factory calibration)
 *   4–6  PM1.0 / PM2.5 / PM10, µg/m³, "under atmospheric environment" (use these outdoors)
 *   7–12 number of particles ≥ 0.3 / 0.5 / 1.0 / 2.5 / 5.0 / 10 µm in 0.1 L of air
 *   13   reserved (version and error code on the PMS5003)
 * The sensor sends one frame about every second (every 2.3 s when readings are stable).
 */
import { FixedFrameDecoder, type FixedFrameSpec, type FrameVerdict } from './fixed-frame.js';

export const PMS5003_FRAME_LENGTH = 32;
const LENGTH_FIELD = 28;

export interface Pms5003Frame {
  pm1_0_cf1: number;
  pm2_5_cf1: number;
  pm10_cf1: number;
  pm1_0: number;
  pm2_5: number;
  pm10: number;
  particles_0_3um: number;
  particles_0_5um: number;
  particles_1_0um: number;
  particles_2_5um: number;
  particles_5_0um: number;
  particles_10um: number;
}

const u16 = (b: Uint8Array, at: number): number => ((b[at] as number) << 8) | (b[at + 1] as number);

export function pms5003Checksum(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let k = 0; k < PMS5003_FRAME_LENGTH - 2; k++) sum += b[at + k] as number;
  return sum & 0xffff;
}

const spec: FixedFrameSpec<Pms5003Frame> = {
  header: 0x42,
  length: PMS5003_FRAME_LENGTH,
  prefix(b, at, available) {
    if (available >= 2 && b[at + 1] !== 0x4d) return false;
    if (available >= 4 && u16(b, at + 2) !== LENGTH_FIELD) return false;
    return true;
  },
  check(b, at): FrameVerdict {
    if (b[at + 1] !== 0x4d || u16(b, at + 2) !== LENGTH_FIELD) return 'format';
    return pms5003Checksum(b, at) === u16(b, at + 30) ? 'ok' : 'checksum';
  },
  parse(b, at) {
    return {
      pm1_0_cf1: u16(b, at + 4),
      pm2_5_cf1: u16(b, at + 6),
      pm10_cf1: u16(b, at + 8),
      pm1_0: u16(b, at + 10),
      pm2_5: u16(b, at + 12),
      pm10: u16(b, at + 14),
      particles_0_3um: u16(b, at + 16),
      particles_0_5um: u16(b, at + 18),
      particles_1_0um: u16(b, at + 20),
      particles_2_5um: u16(b, at + 22),
      particles_5_0um: u16(b, at + 24),
      particles_10um: u16(b, at + 26),
    };
  },
};

export function createPms5003Decoder(): FixedFrameDecoder<Pms5003Frame> {
  return new FixedFrameDecoder(spec);
}

/** Builds a valid frame (tests, benchmarks, the probe's self-test). Values are clamped to u16. */
export function encodePms5003(f: Pms5003Frame, reserved = 0x9700): Uint8Array {
  const words = [
    f.pm1_0_cf1, f.pm2_5_cf1, f.pm10_cf1, f.pm1_0, f.pm2_5, f.pm10,
    f.particles_0_3um, f.particles_0_5um, f.particles_1_0um, f.particles_2_5um, f.particles_5_0um, f.particles_10um,
    reserved,
  ];
  const b = new Uint8Array(PMS5003_FRAME_LENGTH);
  b[0] = 0x42;
  b[1] = 0x4d;
  b[3] = LENGTH_FIELD;
  words.forEach((w, k) => {
    const v = Math.max(0, Math.min(0xffff, Math.round(w)));
    b[4 + 2 * k] = v >> 8;
    b[5 + 2 * k] = v & 0xff;
  });
  const sum = pms5003Checksum(b, 0);
  b[30] = sum >> 8;
  b[31] = sum & 0xff;
  return b;
}

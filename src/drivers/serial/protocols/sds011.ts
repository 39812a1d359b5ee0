/**
 * Nova Fitness SDS011 (also SDS018, SDS021: same frames) in its default active mode.
 *
 * Frame (SDS011 laser dust sensor control protocol v1.3):
 *   0xAA | command | D1 … D6 | checksum | 0xAB
 * checksum = (D1 + … + D6) & 0xFF.
 * command 0xC0 is a measurement: PM2.5 = (D2·256 + D1) / 10 µg/m³, PM10 = (D4·256 + D3) / 10,
 * D5 D6 the sensor id. command 0xC5 is the reply to a configuration command; it is a
 * good frame (counted) but carries no measurement.
 */
import { FixedFrameDecoder, type FixedFrameSpec, type FrameVerdict } from './fixed-frame.js';

export const SDS011_FRAME_LENGTH = 10;

export type Sds011Frame =
  | { kind: 'data'; pm2_5: number; pm10: number; sensor_id: number }
  | { kind: 'reply'; command: number; data: number[] };

function checksum(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let k = 2; k <= 7; k++) sum += b[at + k] as number;
  return sum & 0xff;
}

const spec: FixedFrameSpec<Sds011Frame> = {
  header: 0xaa,
  length: SDS011_FRAME_LENGTH,
  prefix(b, at, available) {
    if (available >= 2 && b[at + 1] !== 0xc0 && b[at + 1] !== 0xc5) return false;
    return true;
  },
  check(b, at): FrameVerdict {
    const cmd = b[at + 1];
    if ((cmd !== 0xc0 && cmd !== 0xc5) || b[at + 9] !== 0xab) return 'format';
    return checksum(b, at) === b[at + 8] ? 'ok' : 'checksum';
  },
  parse(b, at) {
    const d = (k: number): number => b[at + 1 + k] as number;
    if (b[at + 1] === 0xc5) return { kind: 'reply', command: d(1), data: [d(1), d(2), d(3), d(4), d(5), d(6)] };
    return { kind: 'data', pm2_5: (d(2) * 256 + d(1)) / 10, pm10: (d(4) * 256 + d(3)) / 10, sensor_id: d(5) * 256 + d(6) };
  },
};

export function createSds011Decoder(): FixedFrameDecoder<Sds011Frame> {
  return new FixedFrameDecoder(spec);
}

/** Builds a valid measurement frame (tests, benchmarks). PM values in µg/m³, 0.1 resolution. */
export function encodeSds011(pm2_5: number, pm10: number, sensorId = 0xa1b2): Uint8Array {
  const p25 = Math.max(0, Math.min(0xffff, Math.round(pm2_5 * 10)));
  const p10 = Math.max(0, Math.min(0xffff, Math.round(pm10 * 10)));
  const b = Uint8Array.from([0xaa, 0xc0, p25 & 0xff, p25 >> 8, p10 & 0xff, p10 >> 8, sensorId >> 8, sensorId & 0xff, 0, 0xab]);
  b[8] = checksum(b, 0);
  return b;
}

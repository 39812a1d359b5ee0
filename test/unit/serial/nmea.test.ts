import { describe, expect, it } from 'vitest';
import { createNmeaDecoder, encodeNmea, parseSentence } from '../../../src/drivers/serial/protocols/nmea.js';
import { parseCoordinate, parseDate, parseFix, parseGga, parseRmc, parseTimeOfDay } from '../../../src/drivers/serial/protocols/nmea-fix.js';
import { createProtocol } from '../../../src/drivers/serial/protocols/index.js';
import { GARBAGE, NMEA_SENTENCES, NMEA_STREAM, concat } from './fixtures.js';

const sentence = (s: string) => {
  const r = parseSentence(s);
  if (!r.ok) throw new Error(`fixture rejected: ${s}`);
  return r.sentence;
};
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('nmea framing', () => {
  it('decodes every recorded sentence and its checksum', () => {
    const d = createNmeaDecoder();
    const out = d.push(NMEA_STREAM);
    expect(out.map((s) => `${s.talker}${s.type}`)).toEqual(['GPGGA', 'GPRMC', 'GPGSV', 'GPGSA', 'GPVTG', 'GPGGA', 'GPRMC', 'GNGGA', 'GNRMC']);
    expect(out[0]?.fields.slice(0, 3)).toEqual(['123519', '4807.038', 'N']);
    expect(d.counters).toEqual({ frames_ok: 9, checksum_failures: 0, resyncs: 0, bytes_discarded: 0 });
  });

  it('rejects a corrupted sentence by checksum and keeps going', () => {
    const bad = (NMEA_SENTENCES[0] as string).replace('545.4', '945.4');
    const d = createNmeaDecoder();
    const out = d.push(bytes(`${bad}\r\n${NMEA_SENTENCES[1]}\r\n`));
    expect(out.map((s) => s.type)).toEqual(['RMC']);
    expect(d.counters).toMatchObject({ frames_ok: 1, checksum_failures: 1, resyncs: 1, bytes_discarded: bad.length });
  });

  it('treats a sentence without checksum as unverifiable', () => {
    const d = createNmeaDecoder();
    expect(d.push(bytes('$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,\r\n'))).toEqual([]);
    expect(d.counters.checksum_failures).toBe(1);
  });

  it('drops a sentence cut short by the next $, and overlong or binary runs', () => {
    const d = createNmeaDecoder();
    const cut = '$GPGGA,123519,4807.0';
    const long = `$GPXXX,${'9'.repeat(200)}`;
    const out = d.push(concat(bytes(`${cut}${NMEA_SENTENCES[0]}\r\n${long}\r\n`), GARBAGE, bytes(`${NMEA_SENTENCES[1]}\r\n`)));
    expect(out.map((s) => s.type)).toEqual(['GGA', 'RMC']);
    expect(d.counters.frames_ok).toBe(2);
    expect(d.counters.bytes_discarded).toBeGreaterThanOrEqual(cut.length + long.length);
    expect(d.buffered).toBe(0);
  });

  it('accepts LF-only and CR-only line ends and lower-case checksums', () => {
    const d = createNmeaDecoder();
    const lower = (NMEA_SENTENCES[1] as string).replace('*6A', '*6a');
    expect(d.push(bytes(`${NMEA_SENTENCES[0]}\n${lower}\r`)).length).toBe(2);
  });

  it('encodeNmea produces the reference checksum', () => {
    expect(encodeNmea('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toBe(`${NMEA_SENTENCES[0]}\r\n`);
  });
});

describe('nmea fixes', () => {
  it('GGA: position, altitude, fix quality, satellites, hdop', () => {
    const f = parseGga(sentence(NMEA_SENTENCES[0] as string));
    expect(f).toMatchObject({ fix_quality: 1, satellites: 8, hdop: 0.9, altitude: 545.4, time_of_day_ms: 45_319_000 });
    expect(f?.latitude).toBeCloseTo(48 + 7.038 / 60, 9);
    expect(f?.longitude).toBeCloseTo(11 + 31 / 60, 9);
  });

  it('GGA without a fix has no position', () => {
    expect(parseGga(sentence(NMEA_SENTENCES[5] as string))).toEqual({ kind: 'gga', fix_quality: 0, satellites: 0, time_of_day_ms: 1_313_000 });
  });

  it('RMC: valid status, speed in km/h, course, UTC date and time', () => {
    const f = parseRmc(sentence(NMEA_SENTENCES[1] as string));
    expect(f?.valid).toBe(true);
    expect(f?.utc).toBe(Date.UTC(1994, 2, 23, 12, 35, 19));
    expect(f?.speed).toBeCloseTo(22.4 * 1.852, 9);
    expect(f?.course).toBe(84.4);
  });

  it('RMC void: time but no position', () => {
    expect(parseRmc(sentence(NMEA_SENTENCES[6] as string))).toEqual({ kind: 'rmc', valid: false, utc: Date.UTC(2025, 10, 19, 0, 21, 53) });
  });

  it('multi-constellation (GN) sentences, southern and western hemispheres', () => {
    const g = parseFix(sentence(NMEA_SENTENCES[7] as string));
    expect(g).toMatchObject({ kind: 'gga', fix_quality: 2, satellites: 12, altitude: 61.2 });
    expect(parseCoordinate('2812.34567', 'S')).toBeCloseTo(-(28 + 12.34567 / 60), 9);
    expect(parseCoordinate('11256.78901', 'W')).toBeCloseTo(-(112 + 56.78901 / 60), 9);
  });

  it('rejects impossible fields instead of producing NaN', () => {
    expect(parseCoordinate('4860.000', 'N')).toBeUndefined();
    expect(parseCoordinate('9100.000', 'N')).toBeUndefined();
    expect(parseCoordinate('4807.038', 'X')).toBeUndefined();
    expect(parseCoordinate('48a7.038', 'N')).toBeUndefined();
    expect(parseTimeOfDay('246000')).toBeUndefined();
    expect(parseTimeOfDay('235960')).toBe(86_400_000); // leap second
    expect(parseDate('310225')).toBeUndefined();
    expect(parseDate('290224')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDate('010199')).toBe(Date.UTC(1999, 0, 1));
    expect(parseGga(sentence(encodeNmea('GPGGA,123519,4807.038,N,01131.000,E,x,08,0.9,545.4,M,46.9,M,,').trim()))).toBeUndefined();
    expect(parseRmc(sentence(encodeNmea('GPRMC,123519,Q,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W').trim()))).toBeUndefined();
  });
});

describe('nmea samples', () => {
  it('maps GGA and RMC to points, position once, and GPS time to clock_offset_ms', () => {
    const p = createProtocol('nmea');
    const now = Date.UTC(2026, 10, 28, 9, 30, 14, 250); // gateway clock 0.75 s behind GPS
    const frames = p.push(bytes(`${NMEA_SENTENCES[7]}\r\n${NMEA_SENTENCES[8]}\r\n${NMEA_SENTENCES[2]}\r\n`), now);
    const byPoint = Object.fromEntries(frames.flat().map((s) => [s.point, s.value]));
    expect(frames.length).toBe(2); // GSV carries no points
    expect(byPoint).toMatchObject({ fix_quality: 2, satellites: 12, hdop: 0.78, altitude: 61.2, fix_valid: true, course: 270.5 });
    expect(byPoint.latitude as number).toBeCloseTo(28.2057611667, 9);
    expect(byPoint.speed as number).toBeCloseTo(12.345 * 1.852, 9);
    expect(byPoint.clock_offset_ms).toBe(750);
    expect(frames.flat().filter((s) => s.point === 'latitude')).toHaveLength(1);
  });

  it('takes position from RMC when the receiver sends no GGA, and no clock offset from a void fix', () => {
    const p = createProtocol('nmea', { clockOffset: true });
    const valid = p.push(bytes(`${NMEA_SENTENCES[1]}\r\n`), 0).flat();
    expect(valid.map((s) => s.point)).toEqual(['fix_valid', 'latitude', 'longitude', 'speed', 'course', 'clock_offset_ms']);
    const v = p.push(bytes(`${NMEA_SENTENCES[6]}\r\n`), 0).flat();
    expect(v).toEqual([{ point: 'fix_valid', value: false }]);
  });

  it('clock_offset can be turned off', () => {
    const p = createProtocol('nmea', { clockOffset: false });
    expect(p.push(bytes(`${NMEA_SENTENCES[1]}\r\n`), 0).flat().map((s) => s.point)).not.toContain('clock_offset_ms');
  });
});

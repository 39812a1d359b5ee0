/**
 * Positions, motion and time from NMEA GGA and RMC sentences (NMEA 0183 v2.3–4.1 field
 * layout; the extra fields of later versions are ignored). Pure functions of the
 * sentence fields; empty or malformed fields come back `undefined`, never NaN.
 *
 * GGA: time, lat, N/S, lon, E/W, fix quality (0 none, 1 GPS, 2 DGPS, 4 RTK fixed,
 *      5 RTK float, 6 dead reckoning …), satellites in use, HDOP, altitude (m above mean
 *      sea level), M, geoid separation, M, …
 * RMC: time, status (A valid / V void), lat, N/S, lon, E/W, speed (knots), course (° true),
 *      date (ddmmyy), magnetic variation, E/W, mode …
 */
import type { NmeaSentence } from './nmea.js';

export interface GgaFix {
  kind: 'gga';
  /** UTC time of day, ms since midnight. */
  time_of_day_ms?: number;
  latitude?: number;
  longitude?: number;
  fix_quality: number;
  satellites?: number;
  hdop?: number;
  /** Metres above mean sea level. */
  altitude?: number;
}

export interface RmcFix {
  kind: 'rmc';
  /** Status A: the receiver considers the fix (and its time) valid. */
  valid: boolean;
  /** UTC date and time as epoch ms, when both fields are present and sane. */
  utc?: number;
  latitude?: number;
  longitude?: number;
  /** km/h (converted from knots). */
  speed?: number;
  /** Degrees from true north; receivers leave it empty when standing still. */
  course?: number;
}

const KNOTS_TO_KMH = 1.852;

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '' || !/^[+-]?\d+(\.\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** "4807.038","N" → 48.1173. Degrees are the digits before the last two integer digits. */
export function parseCoordinate(value: string | undefined, hemisphere: string | undefined): number | undefined {
  if (!value || !hemisphere || !/^\d{3,5}(\.\d+)?$/.test(value)) return undefined;
  const dot = value.indexOf('.');
  const intLen = dot < 0 ? value.length : dot;
  const deg = Number(value.slice(0, intLen - 2));
  const min = Number(value.slice(intLen - 2));
  if (min >= 60) return undefined;
  const abs = deg + min / 60;
  switch (hemisphere) {
    case 'N':
      return abs <= 90 ? abs : undefined;
    case 'S':
      return abs <= 90 ? -abs : undefined;
    case 'E':
      return abs <= 180 ? abs : undefined;
    case 'W':
      return abs <= 180 ? -abs : undefined;
    default:
      return undefined;
  }
}

/** "123519.50" → ms since midnight UTC. Second 60 is allowed (leap second). */
export function parseTimeOfDay(s: string | undefined): number | undefined {
  const m = s ? /^(\d{2})(\d{2})(\d{2}(?:\.\d+)?)$/.exec(s) : null;
  if (!m) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const sec = Number(m[3]);
  if (h > 23 || mi > 59 || sec >= 61) return undefined;
  return Math.round(((h * 60 + mi) * 60 + sec) * 1000);
}

/**
 * "230394" → epoch ms of that date at 00:00 UTC. Two-digit years are read as 2000–2079
 * and 1980–1999 (the GPS epoch is 1980).
 */
export function parseDate(s: string | undefined): number | undefined {
  const m = s ? /^(\d{2})(\d{2})(\d{2})$/.exec(s) : null;
  if (!m) return undefined;
  const d = Number(m[1]);
  const mo = Number(m[2]);
  const yy = Number(m[3]);
  const year = yy < 80 ? 2000 + yy : 1900 + yy;
  if (mo < 1 || mo > 12 || d < 1) return undefined;
  const t = Date.UTC(year, mo - 1, d);
  return new Date(t).getUTCDate() === d ? t : undefined;
}

export function parseGga(s: NmeaSentence): GgaFix | undefined {
  if (s.type !== 'GGA' || s.fields.length < 9) return undefined;
  const f = s.fields;
  const quality = num(f[5]);
  if (quality === undefined || !Number.isInteger(quality)) return undefined;
  const fix: GgaFix = { kind: 'gga', fix_quality: quality };
  const time = parseTimeOfDay(f[0]);
  if (time !== undefined) fix.time_of_day_ms = time;
  const sats = num(f[6]);
  if (sats !== undefined) fix.satellites = sats;
  const hdop = num(f[7]);
  if (hdop !== undefined) fix.hdop = hdop;
  if (quality > 0) {
    const lat = parseCoordinate(f[1], f[2]);
    const lon = parseCoordinate(f[3], f[4]);
    if (lat !== undefined && lon !== undefined) {
      fix.latitude = lat;
      fix.longitude = lon;
    }
    const alt = num(f[8]);
    if (alt !== undefined) fix.altitude = alt;
  }
  return fix;
}

export function parseRmc(s: NmeaSentence): RmcFix | undefined {
  if (s.type !== 'RMC' || s.fields.length < 9) return undefined;
  const f = s.fields;
  if (f[1] !== 'A' && f[1] !== 'V') return undefined;
  const fix: RmcFix = { kind: 'rmc', valid: f[1] === 'A' };
  const time = parseTimeOfDay(f[0]);
  const date = parseDate(f[8]);
  if (time !== undefined && date !== undefined) fix.utc = date + time;
  if (fix.valid) {
    const lat = parseCoordinate(f[2], f[3]);
    const lon = parseCoordinate(f[4], f[5]);
    if (lat !== undefined && lon !== undefined) {
      fix.latitude = lat;
      fix.longitude = lon;
    }
    const knots = num(f[6]);
    if (knots !== undefined) fix.speed = knots * KNOTS_TO_KMH;
    const course = num(f[7]);
    if (course !== undefined && course >= 0 && course <= 360) fix.course = course;
  }
  return fix;
}

/** GGA or RMC as a fix; other sentence types give undefined. */
export function parseFix(s: NmeaSentence): GgaFix | RmcFix | undefined {
  if (s.type === 'GGA') return parseGga(s);
  if (s.type === 'RMC') return parseRmc(s);
  return undefined;
}

/**
 * The points each protocol emits, with their units, and how a device's `points:`
 * overrides merge into them. The pipeline reads the result (through the driver's
 * `pointConfigs()`), so units and any scale/deadband an integrator adds apply to fixed
 * point sets like pm2_5 just as they do to Modbus registers.
 */
import type { PointPipelineConfig } from '../../core/primitives.js';
import { linePointNames, type LinesOptions } from './protocols/lines.js';

export const PROTOCOLS = ['pms5003', 'sds011', 'nmea', 'lines'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export interface PointInfo {
  name: string;
  unit?: string;
  description: string;
}

const UG = 'µg/m3';
const PER_DL = '1/0.1L';

export const FIXED_POINTS: Record<Exclude<ProtocolName, 'lines'>, readonly PointInfo[]> = {
  pms5003: [
    { name: 'pm1_0', unit: UG, description: 'PM1.0, atmospheric environment' },
    { name: 'pm2_5', unit: UG, description: 'PM2.5, atmospheric environment' },
    { name: 'pm10', unit: UG, description: 'PM10, atmospheric environment' },
    { name: 'pm1_0_cf1', unit: UG, description: 'PM1.0, CF=1 standard particle (factory calibration)' },
    { name: 'pm2_5_cf1', unit: UG, description: 'PM2.5, CF=1 standard particle' },
    { name: 'pm10_cf1', unit: UG, description: 'PM10, CF=1 standard particle' },
    { name: 'particles_0_3um', unit: PER_DL, description: 'particles ≥ 0.3 µm per 0.1 L of air' },
    { name: 'particles_0_5um', unit: PER_DL, description: 'particles ≥ 0.5 µm per 0.1 L' },
    { name: 'particles_1_0um', unit: PER_DL, description: 'particles ≥ 1.0 µm per 0.1 L' },
    { name: 'particles_2_5um', unit: PER_DL, description: 'particles ≥ 2.5 µm per 0.1 L' },
    { name: 'particles_5_0um', unit: PER_DL, description: 'particles ≥ 5.0 µm per 0.1 L' },
    { name: 'particles_10um', unit: PER_DL, description: 'particles ≥ 10 µm per 0.1 L' },
  ],
  sds011: [
    { name: 'pm2_5', unit: UG, description: 'PM2.5' },
    { name: 'pm10', unit: UG, description: 'PM10' },
  ],
  nmea: [
    { name: 'latitude', unit: 'deg', description: 'WGS84 latitude, + north (GGA; RMC if the receiver sends no GGA)' },
    { name: 'longitude', unit: 'deg', description: 'WGS84 longitude, + east (GGA; RMC if no GGA)' },
    { name: 'altitude', unit: 'm', description: 'height above mean sea level (GGA)' },
    { name: 'fix_quality', description: '0 no fix, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 dead reckoning (GGA)' },
    { name: 'satellites', description: 'satellites used in the fix (GGA)' },
    { name: 'hdop', description: 'horizontal dilution of precision (GGA)' },
    { name: 'fix_valid', description: 'true when the receiver reports a valid fix (RMC status A)' },
    { name: 'speed', unit: 'km/h', description: 'speed over ground (RMC, converted from knots)' },
    { name: 'course', unit: 'deg', description: 'course over ground, from true north (RMC; absent when standing still)' },
    { name: 'clock_offset_ms', unit: 'ms', description: 'GPS UTC minus the gateway clock when the RMC sentence arrived' },
  ],
};

/** Names of the points a device emits, before overrides. */
export function emittedPoints(protocol: ProtocolName, lines: LinesOptions): PointInfo[] {
  if (protocol === 'lines') return linePointNames(lines).map((name) => ({ name, description: 'from the line parser' }));
  return [...FIXED_POINTS[protocol]];
}

/**
 * Pipeline settings for every emitted point: the protocol's default unit, overridden
 * key by key by the device's `points:` entry of the same name.
 */
export function mergePointConfigs(
  emitted: readonly PointInfo[],
  overrides: readonly PointPipelineConfig[] | undefined,
): PointPipelineConfig[] {
  const byName = new Map((overrides ?? []).map((p) => [p.name, p]));
  return emitted.map((p) => ({ ...(p.unit ? { unit: p.unit } : {}), ...byName.get(p.name), name: p.name }));
}

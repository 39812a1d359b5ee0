/**
 * The serial driver's config: golden cases exist (test/unit/config/golden.test.ts checks
 * every line of them), the air-quality board, point configs with units, and claims.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { formatIssue } from '../../../src/config/issues.js';
import { serialDriver } from '../../../src/drivers/serial/index.js';
import { findDriver } from '../../../src/drivers/registry.js';
import { serialDeviceSchema } from '../../../src/drivers/serial/schema.js';

const DIR = join(import.meta.dirname, '../../../src/drivers/serial/testcases');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const env = { MQTT_PASSWORD: 'x' };

describe('serial configs', () => {
  it('has golden cases (checked line by line by test/unit/config/golden.test.ts)', () => {
    expect(files.filter((f) => f.startsWith('valid-')).length).toBeGreaterThanOrEqual(3);
    const invalid = files.filter((f) => f.startsWith('invalid-'));
    expect(invalid.length).toBeGreaterThanOrEqual(3);
    for (const f of invalid) expect(readFileSync(join(DIR, f.replace(/\.yaml$/, '.errors')), 'utf8').trim().length, f).toBeGreaterThan(0);
  });

  it('boards/air-quality-pole.yaml validates, with a pms5003, an sds011 and an nmea device', () => {
    const file = join(import.meta.dirname, '../../../boards/air-quality-pole.yaml');
    const r = checkConfigText(readFileSync(file, 'utf8'), 'air-quality-pole.yaml', { env });
    expect(r.issues.map(formatIssue)).toEqual([]);
    expect(r.config?.devices.map((d) => (d as { protocol?: string }).protocol)).toEqual(['pms5003', 'sds011', 'nmea']);
    expect(r.config?.uplink.url).toBe('mqtts://broker.example:8883');
  });
});

describe('serial driver definition', () => {
  const parse = (o: Record<string, unknown>) => serialDeviceSchema.parse({ id: 'd', driver: 'serial', port: '/dev/ttyUSB0', ...o });

  it('is registered', () => {
    expect(findDriver('serial')).toBe(serialDriver);
  });

  it('claims its port', () => {
    expect(serialDriver.claims?.(parse({ protocol: 'pms5003' }))).toEqual(['serial:/dev/ttyUSB0']);
  });

  it('gives every fixed point its unit, merged with overrides by name', () => {
    const pc = serialDriver.pointConfigs?.(parse({ protocol: 'pms5003', points: [{ name: 'pm2_5', deadband: 2 }, { name: 'pm10', unit: 'ug/m3' }] }));
    expect(pc).toHaveLength(12);
    expect(pc?.find((p) => p.name === 'pm2_5')).toEqual({ name: 'pm2_5', unit: 'µg/m3', deadband: 2 });
    expect(pc?.find((p) => p.name === 'pm10')).toEqual({ name: 'pm10', unit: 'ug/m3' });
    expect(pc?.find((p) => p.name === 'particles_0_3um')?.unit).toBe('1/0.1L');
    const nmea = serialDriver.pointConfigs?.(parse({ protocol: 'nmea' }));
    expect(Object.fromEntries((nmea ?? []).map((p) => [p.name, p.unit]))).toMatchObject({
      latitude: 'deg', altitude: 'm', speed: 'km/h', course: 'deg', clock_offset_ms: 'ms',
    });
  });

  it('lines points come from the regex groups or the named columns', () => {
    expect(serialDriver.pointConfigs?.(parse({ protocol: 'lines', regex: '(?<a>\\d+) (?<b>\\w+)', points: [{ name: 'a', unit: 'V' }] }))).toEqual([
      { name: 'a', unit: 'V' },
      { name: 'b' },
    ]);
    expect(serialDriver.pointConfigs?.(parse({ protocol: 'lines', columns: [null, 'x', null, 'y'] })).map((p) => p.name)).toEqual(['x', 'y']);
  });

  it('applies defaults: 9600 8N1, reopen 1s..1m', () => {
    expect(parse({ protocol: 'sds011' })).toMatchObject({ baud: 9600, data_bits: 8, parity: 'none', stop_bits: 1, reopen: { min: 1000, max: 60_000 } });
  });

  it('create() does no I/O', () => {
    expect(() => serialDriver.create(parse({ protocol: 'nmea', port: '/dev/does-not-exist' }), { buses: {} })).not.toThrow();
  });
});

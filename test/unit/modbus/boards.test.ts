/**
 * The example boards validate, their plans are what the README promises, and
 * `explainModbusPlan` shows integrators the requests per poll.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { explainModbusPlan } from '../../../src/drivers/modbus/explain.js';
import { modbusDriver } from '../../../src/drivers/modbus/index.js';
import { devicePlan } from '../../../src/drivers/modbus/device-plan.js';
import type { ModbusDeviceConfig } from '../../../src/drivers/modbus/schema.js';

const root = join(import.meta.dirname, '../../..');
const load = (name: string) => {
  const file = `boards/${name}`;
  const r = checkConfigText(readFileSync(join(root, file), 'utf8'), file, { env: { MQTT_PASSWORD: 'x' }, missingEnv: 'error' });
  expect(r.issues).toEqual([]);
  expect(r.warnings).toEqual([]);
  return r.config!;
};
const device = (cfg: ReturnType<typeof load>, id: string) => cfg.devices.find((d) => (d as { id: string }).id === id) as unknown as ModbusDeviceConfig;

describe('modbus example boards', () => {
  it('sdm630-three-phase.yaml: 36 float32 points of meter 1 in 3 requests per 10 s poll', () => {
    const cfg = load('sdm630-three-phase.yaml');
    const plan = devicePlan(device(cfg, 'feeder-1-meter'));
    expect(plan.groups.map((g) => [g.poll, g.reads.length])).toEqual([
      [10_000, 3],
      [60_000, 2],
    ]);
    expect(plan.specs.every((s) => s.type === 'float32' && s.table === 'input' && s.order === 'ABCD')).toBe(true);
    expect(plan.groups[0]!.reads.every((r) => r.count <= 80)).toBe(true);
  });

  it('single-phase-meter.yaml: SDM120 at 2400 baud', () => {
    const cfg = load('single-phase-meter.yaml');
    expect(cfg.buses['meter-bus']).toMatchObject({ type: 'modbus-rtu', baud: 2400 });
    expect(devicePlan(device(cfg, 'lighting-meter')).groups.map((g) => g.reads.length)).toEqual([2, 2]);
  });

  it('plc-tcp.yaml: every table, bits of a status word, writable set-points and coils', () => {
    const cfg = load('plc-tcp.yaml');
    const { specs } = devicePlan(device(cfg, 'pump-station'));
    expect(new Set(specs.map((s) => s.table))).toEqual(new Set(['coil', 'discrete', 'holding']));
    expect(specs.filter((s) => s.writable).map((s) => s.name)).toEqual(['pump1_speed_setpoint', 'pump2_speed_setpoint', 'start_level', 'pump1_enable', 'pump2_enable']);
    expect(specs.find((s) => s.name === 'inflow')?.order).toBe('CDAB');
  });

  it('explainModbusPlan shows requests per poll, the reads and the bus load', () => {
    const text = explainModbusPlan(load('sdm630-three-phase.yaml'));
    expect(text).toContain('device feeder-1-meter — bus rs485-1 (modbus-rtu /dev/serial/by-id/usb-FTDI_USB-RS485_Cable_FT5XYZ12-if00-port0 9600 8N1), unit 1: 36 points, 20 requests/min');
    expect(text).toContain('  every 10s: 3 requests for 30 points (80 items read)');
    expect(text).toContain('    FC04 read input 342-345 (4) → total_energy, total_reactive_energy');
    expect(text).toMatch(/bus rs485-1: ≈\d+(\.\d)?% busy\n$/);
    expect(modbusDriver.explain?.(load('sdm630-three-phase.yaml'))).toBe(text); // what `validate --explain` prints
    const plc = explainModbusPlan(load('plc-tcp.yaml'));
    expect(plc).toContain('    FC01 read coil 0-1 (2) → pump1_enable, pump2_enable');
    expect(plc).not.toContain('on the wire');
  });

  it('explainModbusPlan points out Modicon-style addresses', () => {
    const text = explainModbusPlan({
      buses: { b: { type: 'modbus-tcp', host: 'h', port: 502, unit: 1 } },
      devices: [{ id: 'm', driver: 'modbus', bus: 'b', poll: 1000, address_base: 0, byte_order: 'big', word_order: 'big', max_gap: 10, max_registers: 125, max_bits: 2000, points: [{ name: 'v', table: 'input', address: 30001, writable: false }] }],
    });
    expect(text).toContain("note: v uses address 30001, which looks like a manual's 3xxxx number; the protocol address is probably 0");
  });
});

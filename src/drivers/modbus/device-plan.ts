/**
 * A device's complete read plan (per poll interval) and its effective unit id, from
 * validated config. Shared by the driver and `explainModbusPlan`, so what the
 * integrator sees is what runs.
 */
import { planReads } from './plan.js';
import { pointSpecs, pollGroups, type PointSpec } from './points.js';
import type { PollGroup } from './poller.js';
import type { ModbusBusConfig, ModbusDeviceConfig } from './schema.js';

export function devicePlan(config: ModbusDeviceConfig): { specs: PointSpec[]; groups: PollGroup[] } {
  const specs = pointSpecs(config);
  const opts = { maxGap: config.max_gap, maxRegisters: config.max_registers, maxBits: config.max_bits };
  const groups = pollGroups(specs).map((g) => ({ poll: g.poll, reads: planReads(g.points, opts) }));
  return { specs, groups };
}

/** The unit id requests go to: the device's, else the TCP bus default, else 1. */
export function effectiveUnit(config: ModbusDeviceConfig, bus: ModbusBusConfig | undefined): number {
  if (config.unit !== undefined) return config.unit;
  return bus?.type === 'modbus-tcp' ? bus.unit : 1;
}

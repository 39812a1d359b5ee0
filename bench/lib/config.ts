/** Gateway configs for the benchmarks, parsed through the real schema so defaults apply. */
import { configSchema, type GatewayConfig } from '../../src/config/schema.js';
import { DEVICE } from './readings.js';

export interface BenchConfigInput {
  url: string;
  protocolVersion: 4 | 5;
  dataDir: string;
  devices?: unknown[];
  synchronous?: 'full' | 'normal';
}

/** A sim device shaped like bench/lib/readings.ts: `points` points (a third per wave) every `poll`. */
export function benchSimDevice(points: number, poll = '1ms', id = DEVICE): Record<string, unknown> {
  const per = Math.max(1, Math.round(points / 3));
  return {
    id,
    driver: 'sim',
    poll,
    seed: 42,
    points: [
      { name: 'temp', wave: 'sine', min: 12, max: 28, period: '10m', unit: 'degC', precision: 2, replicas: per },
      { name: 'hum', wave: 'random_walk', min: 30, max: 90, step: 0.5, unit: '%', precision: 1, replicas: per },
      { name: 'energy', wave: 'counter', min: 1000, step: 0.05, unit: 'kWh', precision: 2, replicas: per },
    ],
  };
}

/** citygate's defaults (group commit 100 ms / 5000, FULL, batches of 100, window 32), no status page. */
export function benchConfig(i: BenchConfigInput): GatewayConfig {
  return configSchema.parse({
    gateway: { id: 'bench-gw', data_dir: i.dataDir },
    uplink: {
      url: i.url,
      protocol_version: i.protocolVersion,
      reconnect: { min: '100ms', max: '1s' },
      batch: { max_readings: 100, max_delay: '1s' },
    },
    buffer: { synchronous: i.synchronous ?? 'full' },
    health: { http: false },
    devices: i.devices ?? [],
  });
}

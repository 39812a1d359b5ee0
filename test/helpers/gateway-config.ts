/** Gateway configs for tests, parsed through the real schema so defaults apply. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type GatewayConfig } from '../../src/config/schema.js';

export function tempDir(prefix = 'cg-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestConfigInput {
  url: string | string[];
  dataDir?: string;
  id?: string;
  protocolVersion?: 4 | 5;
  devices?: unknown[];
  uplink?: Record<string, unknown>;
  buffer?: Record<string, unknown>;
  health?: Record<string, unknown>;
  /** More top-level config sections (buses, commands …), verbatim. */
  extra?: Record<string, unknown>;
}

/** A fast sim device: `points` points sampled every `poll`. */
export function simDevice(id: string, poll = '10ms', points = 5): Record<string, unknown> {
  return { id, driver: 'sim', poll, points: [{ name: 'p', wave: 'counter', replicas: points }] };
}

export function testConfig(i: TestConfigInput): GatewayConfig {
  return configSchema.parse({
    gateway: { id: i.id ?? 'test-gw', data_dir: i.dataDir ?? tempDir() },
    uplink: {
      url: i.url,
      protocol_version: i.protocolVersion ?? 4,
      reconnect: { min: '100ms', max: '1s' }, // the floors: reconnect.max is at least 1s
      batch: { max_readings: 50, max_delay: '50ms' },
      ...i.uplink,
    },
    buffer: { commit_interval: '20ms', ...i.buffer },
    health: { interval: '1s', http: false, ...i.health },
    devices: i.devices ?? [simDevice('sim-1')],
    ...i.extra,
  });
}

/**
 * A synthetic fleet on a broker: retained `status` and `health` for `n` gateways, as
 * real gateways publish them, with known trouble mixed in so tests can check the order:
 *   i % 50 == 7   offline (last will)
 *   i % 40 == 3   health 20 minutes old
 *   i % 25 == 5   one device down (full health)
 *   i % 30 == 11  compact health (a broker with a small packet limit) with one degraded
 *   i % 60 == 13  disk low
 * Every other gateway is healthy, with a backlog of i readings.
 */
import mqtt from 'mqtt';
import type { HealthPayload, StatusPayload } from '../../src/uplink/topics.js';
import { compactHealth } from '../../src/health/compact.js';
import type { DeviceHealthSnapshot } from '../../src/health/device-health.js';

export const gwId = (i: number): string => `gw-${String(i).padStart(3, '0')}`;

function device(state: DeviceHealthSnapshot['state']): DeviceHealthSnapshot {
  return { state, readings: 100, last_reading_age_s: 1, errors: state === 'ok' ? 0 : 5, consecutive_errors: state === 'ok' ? 0 : 5, counters: {} };
}

export function fleetMember(i: number, now: number): { status: StatusPayload; health: HealthPayload | ReturnType<typeof compactHealth> } {
  const h: HealthPayload = {
    gateway: gwId(i),
    ts: i % 40 === 3 ? now - 20 * 60_000 : now - 5_000,
    version: i % 2 ? '0.1.0' : '0.0.9',
    uptime_s: 3600 + i,
    uplink: { state: 'online', reconnects: 0, published: 10, acked_readings: 1000 },
    buffer: { readings: i, rows: 1, bytes: i * 40, file_bytes: 4096, oldest_age_s: i > 0 ? 2 : null, next_seq: 1000 + i, dropped: 0, dropped_by_reason: {}, rejected: 0, lost: 0, events_evicted: 0, pending_events: 0, waiting_in_memory: 0, by_quality: { good: 1000 + i }, bytes_written: 4096 * i },
    disk: { state: i % 60 === 13 ? 'low' : 'ok', free_bytes: 8e9, limit_bytes: 256 * 2 ** 20 },
    devices: { 'meter-1': device(i % 25 === 5 ? 'down' : 'ok'), 'air-1': device(i % 30 === 11 ? 'degraded' : 'ok') },
    buses: {},
    system: { cpu_temp_c: 48.5, load_1m: 0.2, disk_free_bytes: 8e9, disk_total_bytes: 16e9 },
  };
  const status: StatusPayload = i % 50 === 7 ? { state: 'offline' } : { state: 'online', version: h.version, started: now - 3_600_000 };
  return { status, health: i % 30 === 11 ? compactHealth(h) : h };
}

/** Publish `n` gateways' retained status and health under `root`; resolves once the broker has them all. */
export async function publishFleet(url: string, n: number, root = 'citygate', auth: { username?: string; password?: string } = {}): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...auth });
  const now = Date.now();
  try {
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const m = fleetMember(i, now);
      sends.push(c.publishAsync(`${root}/${gwId(i)}/status`, JSON.stringify(m.status), { qos: 1, retain: true }));
      sends.push(c.publishAsync(`${root}/${gwId(i)}/health`, JSON.stringify(m.health), { qos: 1, retain: true }));
    }
    await Promise.all(sends);
  } finally {
    await c.endAsync();
  }
}

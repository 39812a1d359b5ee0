import { describe, expect, it } from 'vitest';
import { compactHealth } from '../../../src/health/compact.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';

describe('compactHealth', () => {
  it('keeps the totals and names the devices that are not ok', () => {
    const dev = (state: 'ok' | 'degraded' | 'down') => ({ state, readings: 1, last_reading_age_s: 1, errors: 0, consecutive_errors: 0, counters: {} });
    const h = {
      gateway: 'g',
      ts: 1,
      version: 'v',
      uptime_s: 5,
      uplink: { state: 'online', reconnects: 0, published: 1, acked_readings: 1 },
      buffer: { readings: 0, rows: 0, bytes: 0, file_bytes: 0, oldest_age_s: null, next_seq: 1, dropped: 0, dropped_by_reason: {}, rejected: 0, lost: 0, events_evicted: 0, pending_events: 0, waiting_in_memory: 0, by_quality: {}, bytes_written: null },
      disk: { state: 'ok', free_bytes: 1, limit_bytes: 2 },
      devices: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`d${i}`, dev(i === 3 ? 'down' : i === 7 ? 'degraded' : 'ok')])),
      buses: { 'rs485-1': { requests: 10 } },
      system: { load_1m: 0.5 },
    } as HealthPayload;
    const c = compactHealth(h);
    expect(c.device_states).toEqual({ ok: 48, degraded: 1, down: 1 });
    expect(c.not_ok).toEqual({ d3: 'down', d7: 'degraded' });
    expect(c).not.toHaveProperty('devices');
    expect(JSON.stringify(c).length).toBeLessThan(JSON.stringify(h).length / 4);
  });
});

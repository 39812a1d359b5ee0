/**
 * /metrics as Prometheus reads it: `promtool check metrics` (Debian package prometheus)
 * accepts the output with no lint findings; counters are typed counter; bus keys are
 * labels, not internal prefixes; process metrics and build info are there.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../../src/health/metrics.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';
import { need, onPath, tool } from '../../helpers/needs.js';

const health: HealthPayload = {
  gateway: 'gw-1', ts: 1_700_000_000_000, version: '0.1.0', uptime_s: 3600,
  uplink: { state: 'online', reconnects: 2, published: 40, acked_readings: 4000, insecure: false, bytes_sent: 123_456, bytes_received: 4_000, ack_latency_ms: { p50: 25, p99: 100, buckets: { '25': 30, '50': 36, '100': 40, '+Inf': 40 }, sum: 700, count: 40 } },
  buffer: { readings: 10, rows: 2, bytes: 2048, file_bytes: 65_536, oldest_age_s: 4, next_seq: 4011, dropped: 5, dropped_by_reason: { max_age: 5 }, rejected: 1, lost: 0, events_evicted: 0, waiting_in_memory: 0, pending_events: 0, bytes_written: 1_000_000, by_quality: { good: 3990, bad: 20 } },
  disk: { state: 'ok', free_bytes: 5e9, limit_bytes: 256 * 1024 ** 2 },
  devices: {
    'meter-1': { state: 'ok', readings: 3000, last_reading_age_s: 3, errors: 1, consecutive_errors: 0, counters: { timeouts: 1, requests: 360 } },
    'air-1': { state: 'down', readings: 1010, last_reading_age_s: null, errors: 7, consecutive_errors: 7, counters: {} },
  },
  buses: { 'rs485-1': { type: 'modbus-rtu', state: 'ok', link: 'open', queued: 0, requests: 360, responses: 359, timeouts: 1, crc_errors: 0 } },
  system: { cpu_temp_c: 48.3, load_1m: 0.2, disk_free_bytes: 5e9, disk_total_bytes: 3.2e10 },
};

describe('/metrics', () => {
  it('passes promtool check metrics', async (ctx) => {
    need(ctx, tool('promtool'));
    const promtool = onPath('promtool')!;
    const text = await metricsRegistry(() => health).metrics();
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim(), 'promtool findings').toBe('');
    expect(r.status).toBe(0);
  });

  it('types totals as counters and carries what ops asked for', async () => {
    const text = await metricsRegistry(() => health).metrics();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (m[1]?.endsWith('_total')) expect(m[2], m[1]).toBe('counter');
    }
    expect(text).toContain('citygate_bus_events_total{kind="modbus",bus="rs485-1",event="timeouts"} 1');
    expect(text).not.toContain('modbus-bus:');
    expect(text).toContain('citygate_device_last_reading_age_seconds{device="meter-1"} 3');
    expect(text).toContain('citygate_buffer_rejected_readings_total 1');
    expect(text).toContain('citygate_buffer_dropped_by_reason_readings_total{reason="max_age"} 5');
    expect(text).toContain('citygate_disk_state{state="ok"} 1');
    expect(text).toContain('citygate_readings_total{quality="bad"} 20');
    expect(text).toContain('citygate_uplink_sent_bytes_total 123456');
    expect(text).toContain('citygate_disk_written_bytes_total 1000000');
    expect(text).toContain('citygate_uplink_ack_latency_p99_seconds 0.1');
    expect(text).toContain('# TYPE citygate_uplink_ack_latency_seconds histogram');
    expect(text).toContain('citygate_uplink_ack_latency_seconds_bucket{le="0.05"} 36');
    expect(text).toContain('citygate_uplink_ack_latency_seconds_bucket{le="+Inf"} 40');
    expect(text).toContain('citygate_uplink_ack_latency_seconds_sum 0.7');
    expect(text).toContain('citygate_uplink_ack_latency_seconds_count 40');
    expect(text).toContain('citygate_uplink_received_bytes_total 4000');
    expect(text).toContain('citygate_disk_free_bytes 5000000000');
    expect(text).toMatch(/^citygate_build_info\{version="[^"]+",node="[^"]+"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('skips what the snapshot does not carry instead of inventing zeros', async () => {
    const bare = { ...health, uplink: { state: 'offline', reconnects: 0, published: 0, acked_readings: 0 }, buffer: { ...health.buffer } } as HealthPayload;
    delete (bare.buffer as Record<string, unknown>).bytes_written;
    const text = await metricsRegistry(() => bare).metrics();
    expect(text).not.toMatch(/^citygate_disk_written_bytes_total /m);
    expect(text).not.toMatch(/^citygate_uplink_sent_bytes_total /m);
  });
});

describe('deploy/grafana dashboard', () => {
  it('queries only metrics that /metrics exports', async () => {
    const { readFileSync } = await import('node:fs');
    const dash = JSON.parse(readFileSync(new URL('../../../deploy/grafana/citygate-dashboard.json', import.meta.url), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const text = await metricsRegistry(() => health).metrics();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    expect(dash.panels.length).toBeGreaterThan(10);
    for (const p of dash.panels) {
      for (const t of p.targets) {
        for (const name of t.expr.match(/\b(citygate|process|nodejs)_[a-z0-9_]+/g) ?? []) {
          // A histogram's series are <name>_bucket, _sum and _count under one TYPE line.
          const base = exported.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
          expect(exported.has(base), `${p.title}: ${name}`).toBe(true);
        }
      }
    }
  });
});

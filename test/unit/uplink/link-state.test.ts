/**
 * What health says about the link: `stalled` only when data waits and nothing was
 * acknowledged for the threshold (a slow link that still acknowledges is `online`);
 * the takeover hint's rules; and that `stalled` shows in /metrics and the fleet view.
 */
import { describe, expect, it } from 'vitest';
import { AckWatch, SHORT_DROPS_HINT, SHORT_SESSION_MS, TakeoverWatch, stallAfter, takeoverHint } from '../../../src/uplink/link-state.js';
import { metricsRegistry } from '../../../src/health/metrics.js';
import { gatewayRow } from '../../../src/fleet/model.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';

describe('link state', () => {
  it('stall threshold: a third of ack_timeout, between 1 s and 10 s', () => {
    expect(stallAfter(30_000)).toBe(10_000);
    expect(stallAfter(9_000)).toBe(3_000);
    expect(stallAfter(600_000)).toBe(10_000);
    expect(stallAfter(100)).toBe(1_000);
  });

  it('a slow link that keeps acknowledging is online; a black hole turns stalled', () => {
    const w = new AckWatch();
    const stall = 3000;
    // Nothing in flight: online whatever the age of the last ack.
    expect(w.state('online', undefined, 100_000, stall)).toBe('online');
    // Slow link: the oldest message in flight is 12 s old, but acks arrive every second.
    for (let t = 1000; t <= 20_000; t += 1000) {
      w.observe(t / 10, t, 1e12 + t);
      expect(w.state('online', t - 12_000, t, stall)).toBe('online');
    }
    // Black hole from t = 20 s: the acknowledged count stops moving.
    w.observe(2000, 21_000, 1e12 + 21_000);
    expect(w.state('online', 20_500, 23_000, stall)).toBe('online');
    expect(w.state('online', 20_500, 24_001, stall)).toBe('stalled');
    expect(w.lastWall).toBe(1e12 + 20_000);
    // A fresh message just sent after a long idle time is not a stall yet.
    expect(w.state('online', 99_000, 100_000, stall)).toBe('online');
    // Other states pass through.
    expect(w.state('offline', 0, 100_000, stall)).toBe('offline');
  });

  it('takeover hint: at once on MQTT 5 (0x8E), after repeated short clean drops on 3.1.1, once only', () => {
    const v5 = new TakeoverWatch();
    expect(v5.ended({ takenOver: true, clean: true, livedMs: 60_000 })).toBe(true);
    expect(v5.ended({ takenOver: true, clean: true, livedMs: 1_000 })).toBe(false); // once
    const v4 = new TakeoverWatch();
    const short = { takenOver: false, clean: true, livedMs: SHORT_SESSION_MS - 1 };
    for (let i = 1; i < SHORT_DROPS_HINT; i++) expect(v4.ended(short)).toBe(false);
    expect(v4.ended({ takenOver: false, clean: false, livedMs: 100 })).toBe(false); // an error resets the run
    for (let i = 1; i < SHORT_DROPS_HINT; i++) expect(v4.ended(short)).toBe(false);
    expect(v4.ended(short)).toBe(true);
    expect(takeoverHint('citygate-gw-7', 'gw-7', false)).toMatch(/another client with client id "citygate-gw-7" connected.*is gateway id "gw-7" running on two machines\?/);
  });

  it('stalled shows in /metrics and puts the gateway up the fleet view', async () => {
    const h = {
      gateway: 'gw-1', ts: Date.now(), version: '0', uptime_s: 1,
      uplink: { state: 'stalled', reconnects: 0, published: 1, acked_readings: 1, since_ack_s: 7, last_ack_at: Date.now() - 7000 },
      buffer: { readings: 0, rows: 0, bytes: 0, file_bytes: 0, oldest_age_s: null, next_seq: 1, dropped: 0, dropped_by_reason: {}, rejected: 0, lost: 0, events_evicted: 0, waiting_in_memory: 0, pending_events: 0 },
      devices: {},
      buses: {},
      system: { cpu_temp_c: null, load_1m: 0, disk_free_bytes: 1e9, disk_total_bytes: 2e9 },
    } as unknown as HealthPayload;
    const text = await metricsRegistry(() => h).metrics();
    expect(text).toContain('citygate_uplink_state{state="stalled"} 1');
    expect(text).toContain('citygate_uplink_state{state="online"} 0');
    expect(text).toContain('citygate_uplink_online 0');
    expect(text).toContain('citygate_uplink_seconds_since_ack 7');
    const row = gatewayRow('gw-1', { status: { state: 'online', version: '0', started: 0 }, health: h }, Date.now(), 180);
    expect(row.uplink_state).toBe('stalled');
    expect(row.trouble).toContain('uplink stalled');
  });
});

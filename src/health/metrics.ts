/**
 * Prometheus metrics (prom-client), computed from the same health snapshot the MQTT
 * `health` topic carries, at scrape time: one source of truth, nothing to keep in sync.
 */
import { Gauge, Registry } from 'prom-client';
import type { HealthPayload } from '../uplink/topics.js';

export function metricsRegistry(snapshot: () => HealthPayload): Registry {
  const reg = new Registry();
  let snap: HealthPayload | undefined;
  const fresh = (): HealthPayload => (snap ??= snapshot());
  const gauge = (name: string, help: string, labelNames: string[], set: (g: Gauge, h: HealthPayload) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [reg],
      collect() {
        this.reset();
        set(this, fresh());
      },
    });
  };
  gauge('citygate_buffer_readings', 'Readings waiting in the disk buffer', [], (g, h) => g.set(h.buffer.readings));
  gauge('citygate_buffer_bytes', 'Bytes of readings in the disk buffer', [], (g, h) => g.set(h.buffer.bytes));
  gauge('citygate_buffer_oldest_age_seconds', 'Age of the oldest buffered reading', [], (g, h) =>
    g.set(h.buffer.oldest_age_s ?? 0),
  );
  gauge('citygate_buffer_dropped_total', 'Readings dropped by buffer limits (ever)', [], (g, h) => g.set(h.buffer.dropped));
  gauge('citygate_buffer_next_seq', 'The seq the next accepted reading gets', [], (g, h) => g.set(h.buffer.next_seq));
  gauge('citygate_uplink_online', '1 when connected to the broker', [], (g, h) => g.set(h.uplink.state === 'online' ? 1 : 0));
  gauge('citygate_uplink_reconnects_total', 'Reconnects since start', [], (g, h) => g.set(h.uplink.reconnects));
  gauge('citygate_uplink_acked_readings_total', 'Readings acknowledged by the broker since start', [], (g, h) =>
    g.set(h.uplink.acked_readings),
  );
  gauge('citygate_device_state', '1 for the state the device is in', ['device', 'state'], (g, h) => {
    for (const [device, d] of Object.entries(h.devices))
      for (const state of ['ok', 'degraded', 'down']) g.set({ device, state }, d.state === state ? 1 : 0);
  });
  gauge('citygate_device_readings_total', 'Readings produced per device since start', ['device'], (g, h) => {
    for (const [device, d] of Object.entries(h.devices)) g.set({ device }, d.readings);
  });
  gauge('citygate_device_errors_total', 'Errors per device since start', ['device'], (g, h) => {
    for (const [device, d] of Object.entries(h.devices)) g.set({ device }, d.errors);
  });
  const origMetrics = reg.metrics.bind(reg);
  reg.metrics = async () => {
    snap = undefined;
    return origMetrics();
  };
  return reg;
}

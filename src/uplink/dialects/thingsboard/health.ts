/**
 * The gateway's health in ThingsBoard, as the gateway device's own data:
 * - each health snapshot → `v1/devices/me/telemetry`, a few flat numbers a dashboard
 *   charts and a rule chain alarms on (the buffer's depth and every loss counter, the
 *   uplink's reconnects, devices by state);
 * - at link up → `v1/devices/me/attributes`: citygate's version, the gateway id, and
 *   how names map (`citygate_device_name`), so an operator can tell whose devices these are.
 * The full snapshot stays on the status page and `/health`. Pure.
 */
import type { HealthPayload } from '../../../core/payloads.js';
import { TB, type TbPublish } from './topics.js';
import type { TbValue } from './telemetry.js';

/** The flat health values (keys prefixed `citygate_`). */
export function healthValues(h: Partial<HealthPayload> & { device_states?: Record<string, number> }): Record<string, TbValue> {
  const v: Record<string, TbValue> = {};
  const b = h.buffer;
  if (b) {
    v.citygate_buffer_readings = b.readings;
    v.citygate_buffer_bytes = b.bytes;
    v.citygate_next_seq = b.next_seq;
    v.citygate_dropped = b.dropped;
    v.citygate_rejected = b.rejected;
    v.citygate_lost = b.lost;
    v.citygate_events_evicted = b.events_evicted;
    if (b.oldest_age_s !== null) v.citygate_oldest_age_s = b.oldest_age_s;
  }
  if (h.uplink) {
    v.citygate_uplink_reconnects = h.uplink.reconnects;
    v.citygate_acked_readings = h.uplink.acked_readings;
  }
  if (typeof h.uptime_s === 'number') v.citygate_uptime_s = h.uptime_s;
  // The compact snapshot (too large for the broker otherwise) carries the counts; the full one the devices.
  const counts: Record<string, number> = { ok: 0, degraded: 0, down: 0 };
  if (h.device_states) Object.assign(counts, h.device_states);
  else for (const d of Object.values(h.devices ?? {})) counts[d.state] = (counts[d.state] ?? 0) + 1;
  for (const [state, n] of Object.entries(counts)) v[`citygate_devices_${state}`] = n;
  return v;
}

/**
 * The telemetry publish of a health snapshot (citygate's JSON text, full or compact form).
 * Undefined when the text is not a health snapshot (nothing to send).
 */
export function healthPublish(json: string): TbPublish | undefined {
  let h: unknown;
  try {
    h = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof h !== 'object' || h === null || typeof (h as { ts?: unknown }).ts !== 'number') return undefined;
  const snapshot = h as Partial<HealthPayload> & { ts: number };
  return { topic: TB.gatewayTelemetry, payload: JSON.stringify({ ts: snapshot.ts, values: healthValues(snapshot) }) };
}

/** The gateway device's attributes, sent at each link up. */
export function gatewayAttributes(o: { gateway: string; version: string; deviceName: string; started: number }): TbPublish {
  return {
    topic: TB.gatewayAttributes,
    payload: JSON.stringify({ citygate_gateway: o.gateway, citygate_version: o.version, citygate_device_name: o.deviceName, citygate_started: o.started }),
  };
}

/**
 * A health snapshot small enough for a broker with a small Maximum Packet Size:
 * per-device detail is replaced by counts per state and the list of devices that are
 * not ok (the ones ops need to see).
 */
import type { HealthPayload } from '../core/payloads.js';

export type CompactHealth = Omit<HealthPayload, 'devices' | 'buses'> & {
  truncated: true;
  device_states: { ok: number; degraded: number; down: number };
  not_ok: Record<string, string>;
};

export function compactHealth(h: HealthPayload): CompactHealth {
  const { devices, buses: _buses, ...rest } = h;
  const states = { ok: 0, degraded: 0, down: 0 };
  const notOk: Record<string, string> = {};
  for (const [id, d] of Object.entries(devices)) {
    states[d.state]++;
    if (d.state !== 'ok') notOk[id] = d.state;
  }
  return { ...rest, truncated: true, device_states: states, not_ok: notOk };
}

/**
 * Synthetic readings for backlogs and the street-pole cycle, shaped like the bench's
 * sim device (bench/lib/config.ts): a third each of temperatures (sine, 2 decimals,
 * degC), humidities (noisy, 1 decimal, %) and energy counters (2 decimals, kWh).
 * Deterministic, so the raw loop and citygate store the same bytes.
 */
import type { Reading } from '../../src/core/reading.js';

export const DEVICE = 'bench-sim';
export const GROUPS = ['temp', 'hum', 'energy'] as const;
const UNITS = ['degC', '%', 'kWh'] as const;

function noise(k: number, p: number): number {
  return (((k * 2654435761) ^ (p * 40503)) >>> 0) % 100;
}

/** Reading number `i` of a device with `points` points polled every `periodMs`. */
export function benchReading(i: number, t0: number, points: number, periodMs: number, device = DEVICE): Reading {
  const p = i % points;
  const k = Math.floor(i / points);
  const g = p % 3;
  const j = Math.floor(p / 3);
  let value: number;
  if (g === 0) value = Math.round((20 + 8 * Math.sin((k * periodMs) / 95_000 + j)) * 100) / 100;
  else if (g === 1) value = Math.round((60 + 20 * Math.sin(k / 500 + j) + noise(k, p) / 20) * 10) / 10;
  else value = Math.round((1000 + j * 10 + k * 0.05) * 100) / 100;
  return { device, point: `${GROUPS[g]}_${j}`, value, unit: UNITS[g], ts: t0 + k * periodMs, quality: 'good' };
}

/** The reading as it appears in a data message's `readings` array (citygate's format). */
export function bodyJson(r: Reading, seq: number): string {
  return `{"seq":${seq},"ts":${r.ts},"point":"${r.point}","value":${String(r.value)},"unit":"${r.unit ?? ''}","quality":"${r.quality}"}`;
}

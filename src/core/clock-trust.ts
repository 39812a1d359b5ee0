/**
 * When a wall-clock time can be believed. A Pi has no real-time clock: until NTP
 * syncs, the wall clock can be days or years off (docs/field-notes.md#fake-hwclock-step). Any wall
 * time before 2025-01-01 predates this software and cannot be right.
 */
export const MIN_PLAUSIBLE_MS = Date.UTC(2025, 0, 1);

export function plausibleWallTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_PLAUSIBLE_MS;
}

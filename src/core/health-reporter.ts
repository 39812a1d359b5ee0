/**
 * How a driver tells the runtime about its device's health. The runtime's
 * implementation (src/health/device-health.ts) turns it into the `health` snapshot,
 * `device_state` events and metrics; drivers only see this interface.
 */
export type DeviceState = 'ok' | 'degraded' | 'down';

export interface DeviceHealthReporter {
  /** A poll or frame succeeded (optionally how long the device took to answer). */
  success(latencyMs?: number): void;
  /** Something failed; `where` names the bus or part (shown with the error). */
  error(err: unknown, where?: string): void;
  /** A driver-specific counter (CRC errors, reopens …). */
  count(name: string, n?: number): void;
  /** Force a state (e.g. `down` while a port is unplugged), with a reason for people. */
  setState(state: DeviceState, reason?: string): void;
}

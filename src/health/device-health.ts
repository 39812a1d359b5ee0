/**
 * Per-device health as drivers report it and ops staff read it.
 *
 * Drivers call `success()` for every good exchange (with its latency when known),
 * `error()` for every failed one, `count()` for their own counters (requests,
 * timeouts, crc_errors, resyncs …) and `setState('down', why)` when they know the
 * device is gone (port unplugged). State is derived:
 * - `down`: set explicitly, or `downAfter` consecutive errors;
 * - `degraded`: the last exchange failed, or no reading for longer than `staleAfter`;
 * - `ok`: otherwise.
 * Transitions are reported to `onTransition` (the runtime turns them into events).
 */
import { describeError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { LatencyWindow } from './latency.js';
import type { DeviceHealthSnapshot } from '../core/payloads.js';

import type { DeviceHealthReporter, DeviceState } from '../core/health-reporter.js';

export type { DeviceHealthReporter, DeviceState };

export type { DeviceHealthSnapshot } from '../core/payloads.js';

export interface DeviceHealthOptions {
  downAfter?: number;
  staleAfterMs?: number;
  onTransition?: (device: string, from: DeviceState, to: DeviceState, reason?: string) => void;
}

export class DeviceHealth implements DeviceHealthReporter {
  private forced: { state: DeviceState; reason?: string } | undefined;
  private readings = 0;
  private lastReadingMono: number | undefined;
  private errors = 0;
  private streak = 0;
  private lastError: string | undefined;
  /** Wall-clock ms of the last error: when it happened, for people reading health. */
  private lastErrorAt: number | undefined;
  private readonly counters: Record<string, number> = {};
  private readonly latency = new LatencyWindow(512);
  private lastState: DeviceState = 'ok';

  constructor(
    readonly device: string,
    private readonly clock: Clock,
    private readonly opts: DeviceHealthOptions = {},
  ) {}

  success(latencyMs?: number): void {
    this.streak = 0;
    if (this.forced?.state === 'down') this.forced = undefined;
    if (latencyMs !== undefined) this.latency.add(latencyMs);
    this.check();
  }

  error(err: unknown, where?: string): void {
    this.errors++;
    this.streak++;
    const msg = describeError(err);
    this.noteError(where ? `${where}: ${msg}` : msg);
    this.check();
  }

  private noteError(text: string): void {
    this.lastError = text;
    this.lastErrorAt = this.clock.now();
  }

  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  setState(state: DeviceState, reason?: string): void {
    // A device forced down or degraded (a serial port unplugged) is an error too: it
    // counts, and its reason is the last error, so health and /metrics show it.
    if (state !== 'ok' && reason && this.forced?.reason !== reason) {
      this.errors++;
      this.noteError(reason);
    }
    this.forced = state === 'ok' ? undefined : { state, ...(reason ? { reason } : {}) };
    if (state === 'ok') this.streak = 0;
    this.check(reason);
  }

  /** Called by the runtime with the readings the device produced in one emit. */
  noteReading(n = 1): void {
    this.readings += n;
    this.lastReadingMono = this.clock.mono();
    if (this.lastState === 'degraded' && this.streak === 0 && !this.forced) this.check();
  }

  state(): DeviceState {
    if (this.forced) return this.forced.state;
    if (this.streak >= (this.opts.downAfter ?? 3)) return 'down';
    if (this.streak > 0) return 'degraded';
    const stale = this.opts.staleAfterMs;
    if (stale !== undefined && this.lastReadingMono !== undefined && this.clock.mono() - this.lastReadingMono > stale) {
      return 'degraded';
    }
    return 'ok';
  }

  /** Re-evaluate and report a transition (also called periodically for staleness). */
  check(reason?: string): DeviceState {
    const now = this.state();
    if (now !== this.lastState) {
      const from = this.lastState;
      this.lastState = now;
      this.opts.onTransition?.(this.device, from, now, reason ?? this.forced?.reason ?? this.lastError);
    }
    return now;
  }

  snapshot(): DeviceHealthSnapshot {
    const state = this.check();
    const snap: DeviceHealthSnapshot = {
      state,
      readings: this.readings,
      last_reading_age_s:
        this.lastReadingMono === undefined ? null : Math.round((this.clock.mono() - this.lastReadingMono) / 100) / 10,
      errors: this.errors,
      consecutive_errors: this.streak,
      counters: { ...this.counters },
    };
    if (this.forced?.reason) snap.reason = this.forced.reason;
    if (this.lastError) snap.last_error = this.lastError;
    if (this.lastErrorAt !== undefined) snap.last_error_at = this.lastErrorAt;
    const lat = this.latency.percentiles();
    if (lat) snap.latency_ms = lat;
    return snap;
  }
}

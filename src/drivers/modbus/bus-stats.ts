/**
 * Counters and state of one physical bus, as ops staff read them under
 * health.buses.<name>. Bounded memory: a fixed latency ring and a fixed window of
 * recent outcomes.
 *
 * State: `down` when the port/connection is not open or the last 5 exchanges all
 * failed; `degraded` when any of the last 20 failed; `ok` otherwise. One dead slave
 * on a bus of several therefore shows as a degraded bus and a down device.
 */
import { LatencyWindow } from '../../health/latency.js';

export type BusState = 'ok' | 'degraded' | 'down';

const WINDOW = 20;

export class BusStats {
  requests = 0;
  responses = 0;
  timeouts = 0;
  crc_errors = 0;
  framing_errors = 0;
  exceptions = 0;
  retries = 0;
  resyncs = 0;
  stale_responses = 0;
  noise_bytes = 0;
  reconnects = 0;
  link_errors = 0;
  private readonly latency = new LatencyWindow(512);
  private readonly recent: boolean[] = [];

  outcome(ok: boolean, latencyMs?: number): void {
    if (ok && latencyMs !== undefined) this.latency.add(latencyMs);
    this.recent.push(ok);
    if (this.recent.length > WINDOW) this.recent.shift();
  }

  state(linkUp: boolean): BusState {
    if (!linkUp && this.requests > 0) return 'down';
    const last5 = this.recent.slice(-5);
    if (last5.length === 5 && last5.every((ok) => !ok)) return 'down';
    return this.recent.some((ok) => !ok) ? 'degraded' : 'ok';
  }

  snapshot(extra: { linkUp: boolean; queued: number; lastError?: string }): Record<string, unknown> {
    const lat = this.latency.percentiles();
    return {
      state: this.state(extra.linkUp),
      link: extra.linkUp ? 'open' : 'closed',
      queued: extra.queued,
      requests: this.requests,
      responses: this.responses,
      timeouts: this.timeouts,
      crc_errors: this.crc_errors,
      framing_errors: this.framing_errors,
      exceptions: this.exceptions,
      retries: this.retries,
      resyncs: this.resyncs,
      stale_responses: this.stale_responses,
      noise_bytes: this.noise_bytes,
      reconnects: this.reconnects,
      link_errors: this.link_errors,
      ...(lat ? { latency_ms: lat } : {}),
      ...(extra.lastError ? { last_error: extra.lastError } : {}),
    };
  }
}

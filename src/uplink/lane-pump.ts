/**
 * The uplink's send order, wired to the buffer and the clock: lanes (lanes.ts), where
 * the live lane starts (live-mark.ts) and the link's measured rate (link-rate.ts),
 * which sets the backlog's in-flight budget. The uplink calls:
 * - `committed()` when data was committed (samples the buffer's next seq, throttled);
 * - `linkUp()` / `linkDown()` from its connection state changes;
 * - `next()` while it has window, `sent()` on publish and `acked()` on PUBACK.
 * Never throws from `committed()` (a failed sample only makes the live mark coarser).
 */
import type { DurableBuffer } from '../buffer/buffer.js';
import type { Clock } from '../core/clock.js';
import type { UplinkConfig } from '../config/schema.js';
import { Lanes, backlogBudget, type LaneMessage } from './lanes.js';
import { LinkRate } from './link-rate.js';
import { LiveMark } from './live-mark.js';

const SAMPLE_EVERY_MS = 1000;

export class LanePump {
  private readonly lanes: Lanes;
  private readonly rate = new LinkRate();
  private readonly mark: LiveMark;
  private cancelSample: (() => void) | undefined;
  private readonly flights = new Map<number, LaneMessage>();

  constructor(
    config: UplinkConfig,
    gateway: string,
    private readonly buffer: DurableBuffer,
    private readonly clock: Clock,
    onReady: () => void,
  ) {
    this.mark = new LiveMark(config.live_age, SAMPLE_EVERY_MS);
    const cfg = { gateway, order: config.order, backlogShare: config.backlog_share, maxReadings: config.batch.max_readings, maxDelayMs: config.batch.max_delay, encoding: config.encoding };
    this.lanes = new Lanes(cfg, buffer, clock, onReady);
    this.sample();
  }

  /** New rows were committed: note where they start, at most once per second (and once after). */
  committed(): void {
    if (this.mark.due(this.clock.mono())) return this.sample();
    this.cancelSample ??= this.clock.setTimer(SAMPLE_EVERY_MS, () => {
      this.cancelSample = undefined;
      this.sample();
    });
  }

  linkUp(): void {
    this.lanes.start(this.mark.liveFrom(this.clock.mono()) ?? 0);
  }

  linkDown(): void {
    this.lanes.reset();
    this.rate.reset();
    this.flights.clear();
  }

  /** The next message to publish, or undefined. */
  next(ctx: { inflight: number; window: number; maxBytes: number; draining: boolean }): LaneMessage | undefined {
    const now = this.clock.mono();
    return this.lanes.next({ ...ctx, backlogBudget: backlogBudget(this.rate.rate(now), this.rate.minRtt()) });
  }

  /** Message `m` was published as flight `id`. */
  sent(id: number, m: LaneMessage): void {
    this.flights.set(id, m);
    this.rate.sent(id, m.bytes, this.clock.mono());
  }

  /** Flight `id` was acknowledged. */
  acked(id: number): void {
    const m = this.flights.get(id);
    if (!m) return;
    this.flights.delete(id);
    this.rate.ackedAt(id, this.clock.mono());
    this.lanes.acked(m);
  }

  idle(): boolean {
    return this.lanes.idle();
  }

  /** For logs: the measured rate (B/s) and the lanes' flights. */
  snapshot(): Record<string, unknown> {
    const now = this.clock.mono();
    return { rateBps: Math.round(this.rate.rate(now) ?? 0), minRttMs: this.rate.minRtt(), ...this.lanes.snapshot() };
  }

  close(): void {
    this.cancelSample?.();
    this.cancelSample = undefined;
    this.lanes.reset();
  }

  private sample(): void {
    try {
      this.mark.sample(this.clock.mono(), this.buffer.stats().nextSeq);
    } catch {
      // a buffer that cannot answer now: the previous sample stands
    }
  }
}

/**
 * The reconnect loop over one or more brokers. Each broker has its own
 * ReconnectPolicy (probe while unreachable, back off after refusals); after a failure
 * the broker whose next step is due first goes next, ties going round-robin from the
 * one that failed. So a dead first broker costs one failed attempt plus [min, 2·min]
 * before the second is tried, not a climb up the backoff.
 *
 * The loop stays on the broker that works (no automatic return to the first one): a
 * standby that holds costs nothing, and a return would mean a disconnect on purpose.
 *
 * Contract: one step outstanding at a time. `connect(b)` starts a full attempt; its
 * outcome comes back as `connected()` or `failed(kind)`. Nothing here logs.
 */
import type { Clock } from '../core/clock.js';
import type { Broker } from './brokers.js';
import { ReconnectPolicy, type FailureKind, type ReconnectTiming } from './reconnect-policy.js';

export interface RedialHooks {
  /** Plain TCP reachability of the broker; never rejects. */
  probe(b: Broker): Promise<boolean>;
  /** Start a full MQTT attempt to `b`. */
  connect(b: Broker): void;
  /** A probe found `b` reachable after it was not (for one log line). */
  reachable?(b: Broker, probes: number): void;
  /** The next step is scheduled (for a debug line). */
  scheduled?(b: Broker, action: 'probe' | 'connect', delay: number): void;
}

interface Slot {
  broker: Broker;
  policy: ReconnectPolicy;
  /** Monotonic ms the next step is due; undefined = never tried. */
  due: number | undefined;
  action: 'probe' | 'connect';
  /** Probes that failed since this broker was last reachable. */
  failedProbes: number;
}

export class Redialer {
  private readonly slots: Slot[];
  private cur = 0;
  private token = 0;
  private cancel: (() => void) | undefined;
  private stopped = false;
  /** Totals since start: what this gateway cost the brokers. */
  readonly counts = { probes: 0, attempts: 0 };

  constructor(
    brokers: readonly Broker[],
    private readonly timing: ReconnectTiming,
    private readonly clock: Clock,
    private readonly hooks: RedialHooks,
  ) {
    if (brokers.length === 0) throw new Error('no broker');
    this.slots = brokers.map((broker) => ({ broker, policy: new ReconnectPolicy(timing, () => clock.random()), due: undefined, action: 'connect', failedProbes: 0 }));
  }

  /** The broker of the current (or last) attempt. */
  current(): Broker {
    return (this.slots[this.cur] as Slot).broker;
  }

  /** First attempt: the first broker, at once. */
  start(): void {
    this.stopped = false;
    this.run(0, 'connect', 0);
  }

  /** The current attempt succeeded. */
  connected(): void {
    const s = this.slots[this.cur] as Slot;
    s.failedProbes = 0;
  }

  /** The current broker is good (stable connection, data acknowledged): its next failure starts from the first step. */
  reset(): void {
    (this.slots[this.cur] as Slot).policy.reset();
  }

  /** The current attempt failed, or its connection dropped. Schedules the next step. */
  failed(kind: FailureKind): void {
    if (this.stopped) return;
    const s = this.slots[this.cur] as Slot;
    const step = s.policy.failed(kind);
    s.due = this.clock.mono() + step.delay;
    s.action = step.action;
    this.next();
  }

  /**
   * The host's network changed: whatever the schedules had grown to, every broker is
   * due again within [0, min] (probes stay probes). Ignored while a step is under way.
   */
  networkChanged(): boolean {
    if (this.stopped || !this.cancel) return false;
    const now = this.clock.mono();
    for (const s of this.slots) {
      s.policy.reset();
      if (s.due !== undefined) s.due = Math.min(s.due, now + Math.round(this.clock.random() * this.timing.min));
    }
    this.next();
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.token++;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Ms until the next step and what it is (health, tests). */
  pending(): { broker: Broker; action: 'probe' | 'connect'; in: number } | undefined {
    const s = this.slots[this.cur] as Slot;
    if (this.stopped || s.due === undefined) return undefined;
    return { broker: s.broker, action: s.action, in: Math.max(0, s.due - this.clock.mono()) };
  }

  private next(): void {
    const now = this.clock.mono();
    const n = this.slots.length;
    let best: Slot | undefined;
    for (let k = 1; k <= n; k++) {
      const s = this.slots[(this.cur + k) % n] as Slot;
      // Never tried: after one failure elsewhere, spread over [min, 2·min].
      s.due ??= now + this.timing.min * (1 + this.clock.random());
      if (!best || s.due < (best.due as number)) best = s;
    }
    const b = best as Slot;
    this.run(b.broker.index, b.action, Math.max(0, (b.due as number) - now));
  }

  private run(index: number, action: 'probe' | 'connect', delay: number): void {
    this.cancel?.();
    const t = ++this.token;
    this.cur = index;
    this.hooks.scheduled?.((this.slots[index] as Slot).broker, action, delay);
    this.cancel = this.clock.setTimer(delay, () => {
      this.cancel = undefined;
      if (t !== this.token || this.stopped) return;
      const s = this.slots[index] as Slot;
      if (action === 'connect') {
        s.due = this.clock.mono();
        this.counts.attempts++;
        this.hooks.connect(s.broker);
        return;
      }
      this.counts.probes++;
      void this.hooks.probe(s.broker).then((ok) => {
        if (t !== this.token || this.stopped) return;
        if (ok && s.failedProbes > 0) this.hooks.reachable?.(s.broker, s.failedProbes);
        s.failedProbes = ok ? 0 : s.failedProbes + 1;
        const step = ok ? s.policy.probeOk() : s.policy.probeFailed();
        s.due = this.clock.mono() + step.delay;
        s.action = step.action;
        this.next();
      });
    });
  }
}

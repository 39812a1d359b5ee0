/**
 * Pulse counting arithmetic, pure: which debounced transitions are pulses, and what an
 * interval of pulses amounts to (count, rate, running total). The running total is kept
 * in raw pulses, an integer, so repeated persistence never accumulates float error; it is
 * scaled only on output.
 */
import type { Level } from '../../ports/gpio/port.js';

/** Whether a debounced change to `level` is a pulse for `edge`. */
export function isPulse(edge: 'rising' | 'falling' | 'both', level: Level): boolean {
  return edge === 'both' || (edge === 'rising' ? level === 1 : level === 0);
}

/** Rounds away binary noise (0.2794 × 3 = 0.8382000000000001) without losing real digits. */
export function tidy(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

export interface IntervalReport {
  /** Pulses in the interval. */
  pulses: number;
  /** pulses × scale. */
  count: number;
  /** count per `ratePerMs`, over the interval's real (monotonic) length. */
  rate: number;
  /** Running total of pulses, all time. */
  totalPulses: number;
  /** totalPulses × scale. */
  total: number;
  /** Real length of the interval, ms. */
  elapsedMs: number;
}

export class PulseTally {
  private pulses = 0;
  private total: number;
  private since: number;

  constructor(startTotalPulses: number, startMono: number) {
    this.total = startTotalPulses;
    this.since = startMono;
  }

  pulse(n = 1): void {
    this.pulses += n;
    this.total += n;
  }

  /** All pulses ever counted, including the current interval. */
  get totalPulses(): number {
    return this.total;
  }

  /** Pulses since the last report. */
  get pending(): number {
    return this.pulses;
  }

  /** Close the interval ending at `mono` and start the next one. */
  report(mono: number, scale: number, ratePerMs: number): IntervalReport {
    const elapsedMs = Math.max(0, mono - this.since);
    const pulses = this.pulses;
    this.pulses = 0;
    this.since = mono;
    const count = tidy(pulses * scale);
    return {
      pulses,
      count,
      rate: elapsedMs > 0 ? tidy((pulses * scale * ratePerMs) / elapsedMs) : 0,
      totalPulses: this.total,
      total: tidy(this.total * scale),
      elapsedMs,
    };
  }
}

/**
 * A persisted total read back from the state store: a non-negative safe integer, or
 * undefined when absent or damaged (the caller reports damage and starts from 0).
 */
export function parseStoredTotal(v: unknown): number | undefined | 'damaged' {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return 'damaged';
}

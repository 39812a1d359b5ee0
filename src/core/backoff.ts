/**
 * Exponential backoff with full jitter, so a fleet that lost its broker at the same
 * moment does not come back in lockstep. Pure: the caller supplies the random source.
 *
 * delay(n) = random in [base·2ⁿ·(1-jitter), base·2ⁿ], capped at `max`.
 */
export interface BackoffOptions {
  /** First delay, ms. */
  base: number;
  /** Cap, ms. */
  max: number;
  /** 0 = no jitter, 1 = full jitter. */
  jitter: number;
}

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number,
  ) {}

  /** The next delay in ms; each call backs off further. */
  next(): number {
    const exp = Math.min(this.opts.max, this.opts.base * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const low = exp * (1 - this.opts.jitter);
    return Math.round(low + (exp - low) * this.random());
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

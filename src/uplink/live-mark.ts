/**
 * Where the live lane starts: a row is *live* when it was committed after
 * `max(link up − live_age, first sample)`, i.e. after the link came back or at most
 * `live_age` before; every older row is *backlog*. Row ids are first seqs, so "committed
 * after time t" is "id ≥ the buffer's next seq at t".
 *
 * The uplink samples the buffer's next seq at most once per `everyMs` when data is
 * committed (and once at start). A sample (t, n) says rows with id ≥ n were committed
 * after t. For a cutoff c the mark is n of the newest sample at or before c: the live
 * lane may start up to one sampling period before c (never after it). Before the
 * first sample at or before c, the oldest sample counts: rows this process found in
 * the buffer when it started are backlog. Pure: times come from the caller.
 */
export class LiveMark {
  private samples: { at: number; next: number }[] = [];

  constructor(
    private readonly liveAgeMs: number,
    private readonly everyMs = 1000,
  ) {}

  /** Whether a sample at `now` is due (the caller then reads the next seq and calls `sample`). */
  due(now: number): boolean {
    const last = this.samples[this.samples.length - 1];
    return !last || now - last.at >= this.everyMs;
  }

  /** At `now` (ms) the buffer's next seq was `nextSeq`. */
  sample(now: number, nextSeq: number): void {
    this.samples.push({ at: now, next: nextSeq });
    // Keep one sample at or before the oldest cutoff that can still be asked for.
    const cutoff = now - this.liveAgeMs;
    while (this.samples.length > 1 && (this.samples[1]?.at ?? Infinity) <= cutoff) this.samples.shift();
  }

  /** The first live row id for a link that came up at `upAt`, or undefined before any sample. */
  liveFrom(upAt: number): number | undefined {
    const cutoff = upAt - this.liveAgeMs;
    let mark = this.samples[0]?.next;
    for (const s of this.samples) {
      if (s.at > cutoff) break;
      mark = s.next;
    }
    return mark;
  }
}

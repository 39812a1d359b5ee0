/**
 * A cumulative histogram with fixed bucket bounds, as Prometheus keeps one: a count
 * per upper bound (`le`), the sum and the count. Memory is the bucket list, whatever
 * the number of observations. Pure.
 */
export interface HistogramSnapshot {
  /** Upper bound → observations at or below it (cumulative); the last bound is "+Inf". */
  buckets: Record<string, number>;
  sum: number;
  count: number;
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  /** `bounds` ascending, in the unit of the observations. */
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= (this.bounds[i] as number)) this.counts[i]!++;
  }

  /**
   * The quantile `q` (0..1) as the upper bound of the bucket it falls in; past the last
   * bound, the last bound (read it as "at least").
   */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = q * this.count;
    for (let i = 0; i < this.bounds.length; i++) if ((this.counts[i] as number) >= rank) return this.bounds[i];
    return this.bounds[this.bounds.length - 1];
  }

  snapshot(): HistogramSnapshot {
    const buckets: Record<string, number> = {};
    this.bounds.forEach((b, i) => (buckets[String(b)] = this.counts[i] as number));
    buckets['+Inf'] = this.count;
    return { buckets, sum: this.sum, count: this.count };
  }
}

/** A fixed-size ring of recent latencies with p50/p99; memory is bounded by `size`. */
export class LatencyWindow {
  private readonly ring: Float64Array;
  private n = 0;
  private i = 0;

  constructor(size: number) {
    this.ring = new Float64Array(size);
  }

  add(ms: number): void {
    this.ring[this.i] = ms;
    this.i = (this.i + 1) % this.ring.length;
    if (this.n < this.ring.length) this.n++;
  }

  percentiles(): { p50: number; p99: number } | undefined {
    if (this.n === 0) return undefined;
    const sorted = Array.from(this.ring.subarray(0, this.n)).sort((a, b) => a - b);
    const at = (q: number): number => Math.round((sorted[Math.min(this.n - 1, Math.floor(q * this.n))] ?? 0) * 10) / 10;
    return { p50: at(0.5), p99: at(0.99) };
  }
}

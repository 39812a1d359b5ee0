/**
 * When each fault was injected and healed, and the wall-clock offset the harness gave
 * the gateway over time. Used to attribute what the subscriber saw to a fault kind:
 * the fault active at that moment (the most recently injected of those active), else
 * the most recently injected one, else BASELINE (before the first fault).
 */
export const BASELINE = 'baseline';

export interface FaultSpan {
  kind: string;
  start: number;
  /** When it was healed (undefined while still active). */
  end: number | undefined;
  detail: string;
}

export class Timeline {
  readonly faults: FaultSpan[] = [];
  /** (harness time, offset of the gateway's wall clock in ms), in time order. */
  private readonly offsets: Array<{ at: number; off: number }> = [{ at: 0, off: 0 }];
  private index: { times: number[]; kinds: string[] } | undefined;

  /** `epoch`: the wall-clock ms at harness time 0 (harness times are ms since then). */
  constructor(private readonly epoch = 0) {}

  begin(kind: string, at: number, detail = ''): FaultSpan {
    const f: FaultSpan = { kind, start: at, end: undefined, detail };
    this.faults.push(f);
    this.index = undefined;
    return f;
  }

  end(f: FaultSpan, at: number): void {
    if (f.end === undefined) f.end = at;
    this.index = undefined;
  }

  active(kind: string): FaultSpan | undefined {
    return this.faults.find((f) => f.kind === kind && f.end === undefined);
  }

  setOffset(at: number, off: number): void {
    this.offsets.push({ at, off });
  }

  get offset(): number {
    return (this.offsets[this.offsets.length - 1] as { off: number }).off;
  }

  /**
   * The harness time at which the gateway read its (shifted) wall clock as `ts` (epoch ms):
   * the latest offset period that `ts - offset` falls into (2 s of slack at the edges).
   */
  realTime(ts: number): number {
    const o = this.offsets;
    for (let i = o.length - 1; i >= 0; i--) {
      const cur = o[i] as { at: number; off: number };
      const cand = ts - cur.off - this.epoch;
      const next = o[i + 1];
      if (cand >= cur.at - 2000 && (next === undefined || cand <= next.at + 2000)) return cand;
    }
    return ts - this.offset - this.epoch;
  }

  /** The fault kind a moment belongs to (see the file comment). */
  kindAt(t: number): string {
    if (!this.index) this.index = this.buildIndex();
    const { times, kinds } = this.index;
    let lo = 0;
    let hi = times.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((times[mid] as number) <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? BASELINE : (kinds[found] as string);
  }

  private winnerAt(t: number): string {
    let active: FaultSpan | undefined;
    let latest: FaultSpan | undefined;
    for (const f of this.faults) {
      if (f.start > t) continue;
      if (!latest || f.start >= latest.start) latest = f;
      if ((f.end === undefined || f.end > t) && (!active || f.start >= active.start)) active = f;
    }
    return (active ?? latest)?.kind ?? BASELINE;
  }

  /** Piecewise-constant kind over time: one entry per boundary (start or end of a fault). */
  private buildIndex(): { times: number[]; kinds: string[] } {
    const bounds = [...new Set(this.faults.flatMap((f) => (f.end === undefined ? [f.start] : [f.start, f.end])))].sort((a, b) => a - b);
    return { times: bounds, kinds: bounds.map((b) => this.winnerAt(b)) };
  }
}

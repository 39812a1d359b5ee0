/**
 * The contract of a benchmark section. `npm run bench` runs every section in
 * bench/sections.ts, prints one table and writes bench-results.json.
 * Figures are reported as ratios against a raw baseline measured in the same run.
 */
export interface BenchRow {
  /** What was measured, e.g. "modbus: polls/s (citygate)". */
  name: string;
  value: number;
  unit: string;
  /** The raw baseline measured in the same run, when there is one. */
  baseline?: number;
  /** value / baseline (or the section's own ratio). */
  ratio?: number;
  /** The target from the issue, e.g. ">= 0.9x raw". */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  ok?: boolean;
  note?: string;
}

export interface BenchContext {
  /** A scratch directory, removed after the run. */
  tmpDir: string;
  /** Scale factor: 1 for the full run, smaller for a quick run (BENCH_QUICK=1). */
  scale: number;
  log(line: string): void;
}

export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

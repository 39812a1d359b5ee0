/**
 * The pipeline between drivers and the buffer: per point, in order,
 * 1. stamp: `ts` from the sample or the clock; unit from the sample or config;
 * 2. validate: non-finite numbers become null with quality "bad";
 * 3. scale: value × scale + offset, then round to `precision`;
 * 4. range: outside `valid_range` → quality "bad" (the value is still sent);
 * 5. report-on-change: with `deadband`, only moves of at least that much are
 *    reported, plus one every `max_silence` and on any quality change;
 * 6. a reading stamped while the wall clock is untrusted (no NTP yet) is "uncertain".
 * Pure apart from the clock; one instance per device.
 */
import type { Clock } from '../core/clock.js';
import type { Quality, Reading, Sample, Value } from '../core/reading.js';
import type { PointPipelineConfig } from '../config/primitives.js';

interface LastReport {
  value: Value | null;
  quality: Quality;
  at: number;
}

export class DevicePipeline {
  private readonly points = new Map<string, PointPipelineConfig>();
  private readonly last = new Map<string, LastReport>();

  constructor(
    readonly device: string,
    points: readonly PointPipelineConfig[],
    private readonly clock: Clock,
    /** False while the wall clock is known to be wrong: readings become "uncertain". */
    private readonly clockTrusted: () => boolean = () => true,
  ) {
    for (const p of points) this.points.set(p.name, p);
  }

  /** The reading to store for this sample, or undefined when report-on-change holds it back. */
  process(s: Sample): Reading | undefined {
    const cfg = this.points.get(s.point);
    let value: Value | null = s.value;
    let quality: Quality = s.quality ?? 'good';

    if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        value = null;
        quality = 'bad';
      } else if (cfg) {
        if (cfg.scale !== undefined) value *= cfg.scale;
        if (cfg.offset !== undefined) value += cfg.offset;
        if (cfg.precision !== undefined) {
          const f = 10 ** cfg.precision;
          value = Math.round(value * f) / f;
        }
        if (cfg.valid_range && (value < cfg.valid_range[0] || value > cfg.valid_range[1])) quality = 'bad';
      }
    }

    if (cfg?.deadband !== undefined && !this.shouldReport(s.point, value, quality, cfg)) return undefined;
    if (s.ts === undefined && quality === 'good' && !this.clockTrusted()) quality = 'uncertain';

    const unit = s.unit ?? cfg?.unit;
    const r: Reading = { device: this.device, point: s.point, value, ts: s.ts ?? this.clock.now(), quality };
    if (unit !== undefined) r.unit = unit;
    return r;
  }

  private shouldReport(point: string, value: Value | null, quality: Quality, cfg: PointPipelineConfig): boolean {
    const now = this.clock.mono();
    const prev = this.last.get(point);
    const moved =
      !prev ||
      prev.quality !== quality ||
      (typeof value === 'number' && typeof prev.value === 'number'
        ? Math.abs(value - prev.value) >= (cfg.deadband ?? 0)
        : value !== prev.value);
    const silent = prev !== undefined && cfg.max_silence !== undefined && now - prev.at >= cfg.max_silence;
    if (!moved && !silent) return false;
    this.last.set(point, { value, quality, at: now });
    return true;
  }
}

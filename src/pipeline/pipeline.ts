/**
 * The pipeline between drivers and the buffer: per point, in order,
 * 1. stamp: `ts` from the sample or the clock; unit from the sample or config;
 * 2. scale: value × scale + offset, then round to `precision`;
 * 3. validate, after scaling: a value that is not a finite number (NaN, ±Infinity,
 *    or a finite raw value that overflowed when scaled: 1e308 × 10) becomes null
 *    with quality "bad" — never NaN or Infinity on the wire;
 * 4. range: outside `valid_range` → quality "bad" (the value is still sent);
 * 5. report-on-change: with `deadband`, only moves of at least that much are
 *    reported, plus one every `max_silence` and on any quality change;
 * 6. time trust: a reading stamped while the wall clock is untrusted (no NTP yet) is
 *    "uncertain", whether the runtime or the driver stamped it (a driver's `ts` comes
 *    from the same clock: a GPIO edge time); a driver `ts` before 2025 is "uncertain"
 *    too. Only a sample marked `tsExternal` (a GPS fix's own time) keeps its quality
 *    while the local clock is untrusted.
 * Pure apart from the clock; one instance per device.
 */
import type { Clock } from '../core/clock.js';
import { plausibleWallTime } from '../core/clock-trust.js';
import type { Quality, Reading, Sample, Value } from '../core/reading.js';
import type { PointSettings as PointPipelineConfig } from '../core/point-settings.js';

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

  /**
   * The reading to store for this sample, or undefined when report-on-change holds it back.
   * `now` and `trusted`: the wall clock and its trust, read once per poll by the caller
   * (read here when not given).
   */
  process(s: Sample, now?: number, trusted?: boolean): Reading | undefined {
    const cfg = this.points.get(s.point);
    let value: Value | null = s.value;
    let quality: Quality = s.quality ?? 'good';

    if (typeof value === 'number') {
      if (cfg && Number.isFinite(value)) {
        if (cfg.scale !== undefined) value *= cfg.scale;
        if (cfg.offset !== undefined) value += cfg.offset;
        if (cfg.precision !== undefined && Number.isFinite(value)) {
          const f = 10 ** cfg.precision;
          const rounded = Math.round(value * f) / f;
          if (Number.isFinite(rounded)) value = rounded;
        }
      }
      if (!Number.isFinite(value)) {
        value = null;
        quality = 'bad';
      } else if (cfg?.valid_range && (value < cfg.valid_range[0] || value > cfg.valid_range[1])) quality = 'bad';
    }

    if (cfg?.deadband !== undefined && !this.shouldReport(s.point, value, quality, cfg)) return undefined;
    if (quality === 'good' && !this.timeTrusted(s, trusted)) quality = 'uncertain';

    const unit = s.unit ?? cfg?.unit;
    // One shape for every reading (unit last, possibly undefined): monomorphic code downstream.
    return { device: this.device, point: s.point, value, ts: s.ts ?? now ?? this.clock.now(), quality, unit };
  }

  private timeTrusted(s: Sample, trusted: boolean | undefined): boolean {
    if (s.ts === undefined) return trusted ?? this.clockTrusted();
    if (!plausibleWallTime(s.ts)) return false;
    return s.tsExternal === true || (trusted ?? this.clockTrusted());
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

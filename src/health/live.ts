/**
 * What the status page shows beyond the health snapshot, kept in memory and bounded:
 * the last reading of every point (value, unit, quality, when) and the last events.
 * Fed by the runtime (`noteReading` from the device pipelines, `noteEvent` from the
 * buffer's event queue); read by the status server. Never in the data path: noting is
 * a map write.
 */
import type { Reading } from '../core/reading.js';
import type { HealthPayload } from '../core/payloads.js';

export interface PointView {
  device: string;
  point: string;
  value: Reading['value'];
  unit?: string;
  quality: Reading['quality'];
  /** Epoch ms of the reading. */
  ts: number;
}

/** Everything the status page renders, as one JSON document (also the SSE payload). */
export interface StatusView {
  health: HealthPayload;
  points: PointView[];
  events: Record<string, unknown>[];
}

/** Most points remembered (a config has far fewer; this only bounds a runaway driver). */
const MAX_POINTS = 5000;

export class LiveState {
  private readonly points = new Map<string, PointView>();
  private readonly recent: Record<string, unknown>[] = [];
  /** Bumped on every change, so the server pushes only when something moved. */
  version = 0;

  constructor(private readonly maxEvents = 30) {}

  noteReading(r: Reading): void {
    const key = `${r.device}\u0000${r.point}`;
    if (!this.points.has(key) && this.points.size >= MAX_POINTS) return;
    const p: PointView = { device: r.device, point: r.point, value: r.value, quality: r.quality, ts: r.ts };
    if (r.unit !== undefined) p.unit = r.unit;
    this.points.set(key, p);
    this.version++;
  }

  noteEvent(e: Record<string, unknown>): void {
    this.recent.push(e);
    if (this.recent.length > this.maxEvents) this.recent.shift();
    this.version++;
  }

  /** The last reading of every point, by device then point. */
  lastPoints(): PointView[] {
    return [...this.points.values()].sort((a, b) => a.device.localeCompare(b.device) || a.point.localeCompare(b.point));
  }

  view(health: HealthPayload): StatusView {
    return { health, points: this.lastPoints(), events: [...this.recent].reverse() };
  }
}

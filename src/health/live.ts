/**
 * What the status page shows beyond the health snapshot, kept in memory and bounded:
 * the last reading of every point (value, unit, quality, when) and the last events.
 * Fed by the runtime (`noteReading` from the device pipelines, `noteEvent` from the
 * buffer's event queue); read by the status server. Noting is a map write that keeps
 * the Reading itself (no copy, no key string): it runs for every reading.
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
  /** The last reading per device, then per point: the Reading itself (never mutated), no copy. */
  private readonly points = new Map<string, Map<string, Reading>>();
  private count = 0;
  private readonly recent: Record<string, unknown>[] = [];
  /** Bumped on every change, so the server pushes only when something moved. */
  version = 0;

  constructor(private readonly maxEvents = 30) {}

  /** On the data path (every reading): two map look-ups and a store, no allocation. */
  noteReading(r: Reading): void {
    let device = this.points.get(r.device);
    if (device === undefined) {
      if (this.count >= MAX_POINTS) return;
      device = new Map();
      this.points.set(r.device, device);
    }
    if (!device.has(r.point)) {
      if (this.count >= MAX_POINTS) return;
      this.count++;
    }
    device.set(r.point, r);
    this.version++;
  }

  noteEvent(e: Record<string, unknown>): void {
    this.recent.push(e);
    if (this.recent.length > this.maxEvents) this.recent.shift();
    this.version++;
  }

  /** The last reading of every point, by device then point. */
  lastPoints(): PointView[] {
    const out: PointView[] = [];
    for (const device of this.points.values()) {
      for (const r of device.values()) {
        const p: PointView = { device: r.device, point: r.point, value: r.value, quality: r.quality, ts: r.ts };
        if (r.unit !== undefined) p.unit = r.unit;
        out.push(p);
      }
    }
    return out.sort((a, b) => a.device.localeCompare(b.device) || a.point.localeCompare(b.point));
  }

  view(health: HealthPayload): StatusView {
    return { health, points: this.lastPoints(), events: [...this.recent].reverse() };
  }
}

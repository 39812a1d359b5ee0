/**
 * Wires configured devices to the runtime: for each enabled device, its driver
 * (from the registry), pipeline, health and supervisor, and the context a driver
 * run sees. Emitting never throws back into a driver.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { CreateEnv, DriverContext } from '../core/driver.js';
import type { Reading, Sample } from '../core/reading.js';
import type { StateStore } from '../core/state-store.js';
import type { RefCountedResources } from '../core/resources.js';
import { findDriver } from '../drivers/registry.js';
import { DevicePipeline } from '../pipeline/pipeline.js';
import { DeviceHealth, type DeviceState } from '../health/device-health.js';
import type { GatewayConfig } from '../config/schema.js';
import type { GroupCommitter } from '../buffer/group-commit.js';
import type { PointSettings as PointPipelineConfig } from '../core/point-settings.js';
import { Supervisor } from './supervisor.js';

export interface DeviceRuntime {
  id: string;
  driver: string;
  health: DeviceHealth;
  supervisor: Supervisor;
}

export interface DeviceWiring {
  config: GatewayConfig;
  clock: Clock;
  log: Logger;
  committer: GroupCommitter;
  resources: RefCountedResources;
  state: StateStore;
  onTransition: (device: string, from: DeviceState, to: DeviceState, reason?: string) => void;
  /** Called before samples are stamped (clock-step detection). */
  beforeStamp?: () => void;
  clockTrusted?: () => boolean;
  /** Every reading the pipeline passes on (the status page's last value per point). */
  onReading?: (r: Reading) => void;
}

export function buildDevices(w: DeviceWiring): DeviceRuntime[] {
  const env: CreateEnv = { buses: w.config.buses as CreateEnv['buses'] };
  const out: DeviceRuntime[] = [];
  for (const raw of w.config.devices) {
    const cfg = raw as { id: string; driver: string; enabled?: boolean; poll?: number; points?: PointPipelineConfig[] };
    if (cfg.enabled === false) continue;
    const def = findDriver(cfg.driver);
    if (!def) throw new Error(`device ${cfg.id}: no driver "${cfg.driver}" in this build`);
    const pipeline = new DevicePipeline(cfg.id, def.pointConfigs?.(raw) ?? cfg.points ?? [], w.clock, w.clockTrusted);
    const opts: ConstructorParameters<typeof DeviceHealth>[2] = { onTransition: w.onTransition };
    if (typeof cfg.poll === 'number') opts.staleAfterMs = Math.max(cfg.poll * 3, 5000);
    const health = new DeviceHealth(cfg.id, w.clock, opts);
    const log = w.log.child({ device: cfg.id, driver: cfg.driver });
    const state: StateStore = {
      get: <T>(k: string) => w.state.get<T>(`${cfg.id}:${k}`),
      set: (k, v) => w.state.set(`${cfg.id}:${k}`, v),
    };
    // One clock read and one trust check per emit (a poll's samples), not per sample.
    const emitOne = (s: Sample, now: number, trusted: boolean): void => {
      const r = pipeline.process(s, now, trusted);
      if (r) {
        w.committer.add(r);
        w.onReading?.(r);
      }
    };
    const context = (signal: AbortSignal, fail: (err: unknown) => void): DriverContext => ({
      device: cfg.id,
      health,
      log,
      clock: w.clock,
      signal,
      fail,
      resources: w.resources,
      state,
      emit(samples) {
        if (signal.aborted) return;
        try {
          w.beforeStamp?.();
          const now = w.clock.now();
          const trusted = w.clockTrusted?.() ?? true;
          if (Array.isArray(samples)) {
            for (const s of samples as Sample[]) emitOne(s, now, trusted);
            health.noteReading(samples.length);
          } else {
            emitOne(samples as Sample, now, trusted);
            health.noteReading(1);
          }
        } catch (err) {
          health.error(err, 'pipeline');
        }
      },
    });
    const supervisor = new Supervisor({
      device: cfg.id,
      create: () => def.create(raw, env),
      context,
      clock: w.clock,
      log,
      onFailure: (err) => health.error(err, `driver ${cfg.driver}`),
    });
    out.push({ id: cfg.id, driver: cfg.driver, health, supervisor });
  }
  return out;
}

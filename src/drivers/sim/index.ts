/**
 * sim — simulated devices for the demo, the tests and the benchmarks.
 *
 * Each poll samples every point once. Polls are scheduled against the monotonic clock
 * and caught up in bulk when the event loop was late, so a 1 ms poll with 1,000 points
 * really produces ~1M readings/s of demand (the pipeline and buffer are what is being
 * measured, not the timer). `error_rate` makes polls fail, to exercise health.
 */
import type { Driver, DriverContext, DriverDefinition } from '../../core/driver.js';
import type { Sample } from '../../core/reading.js';
import { sleep } from '../../core/clock.js';
import { simDeviceSchema, type SimDeviceConfig, type SimPointConfig } from './schema.js';
import { seededRandom } from '../../core/seeded-random.js';
import { initialState, waveValue, type WaveState } from './waves.js';

/**
 * At most this many readings are produced in one tick: a late tick catches up in
 * slices, so the event loop (PUBACKs, commits) keeps turning under any offered load.
 */
const MAX_READINGS_PER_TICK = 5000;
/** Polls further behind than this are skipped, not replayed (the sim is not a log). */
const MAX_BACKLOG_POLLS = 1000;

interface SimPoint {
  name: string;
  config: SimPointConfig;
  state: WaveState;
}

export class SimDriver implements Driver {
  private cancel: (() => void) | undefined;
  private readonly points: SimPoint[];

  constructor(private readonly config: SimDeviceConfig) {
    this.points = config.points.flatMap((p) =>
      p.replicas === 1
        ? [{ name: p.name, config: p, state: initialState(p) }]
        : Array.from({ length: p.replicas }, (_, i) => ({ name: `${p.name}_${i}`, config: p, state: initialState(p) })),
    );
  }

  async start(ctx: DriverContext): Promise<void> {
    if (this.config.start_delay !== undefined) await sleep(ctx.clock, this.config.start_delay, ctx.signal);
    const random = this.config.seed === undefined ? () => ctx.clock.random() : seededRandom(this.config.seed);
    const poll = this.config.poll;
    const t0 = ctx.clock.mono();
    let done = 0;
    const tick = (): void => {
      if (ctx.signal.aborted) return;
      if (this.config.crash_after !== undefined && ctx.clock.mono() - t0 >= this.config.crash_after) {
        // Deliberately unhandled: the supervisor's fault domain must catch it.
        throw new Error(`simulated crash after ${this.config.crash_after}ms (crash_after)`);
      }
      const due = Math.floor((ctx.clock.mono() - t0) / poll) + 1;
      if (due - done > MAX_BACKLOG_POLLS) done = due - MAX_BACKLOG_POLLS;
      const perTick = Math.max(1, Math.floor(MAX_READINGS_PER_TICK / Math.max(1, this.points.length)));
      const n = Math.min(due - done, perTick);
      for (let k = 0; k < n; k++) {
        const elapsed = (done + k) * poll;
        if (this.config.error_rate > 0 && random() < this.config.error_rate) {
          ctx.health.error(new Error('simulated fault (error_rate)'), `sim:${this.config.id}`);
          continue;
        }
        ctx.emit(this.sample(elapsed, random));
        ctx.health.success();
      }
      done += n;
      // Behind: yield to the event loop and continue at once; else wait for the next poll.
      const next = done < due ? ctx.clock.mono() : t0 + done * poll;
      this.cancel = ctx.clock.setTimer(next - ctx.clock.mono(), tick);
    };
    tick();
  }

  private sample(elapsed: number, random: () => number): Sample[] {
    const out: Sample[] = new Array(this.points.length);
    for (let i = 0; i < this.points.length; i++) {
      const p = this.points[i] as SimPoint;
      out[i] = { point: p.name, value: waveValue(p.config, elapsed, p.state, random) };
    }
    return out;
  }

  async stop(): Promise<void> {
    this.cancel?.();
    this.cancel = undefined;
  }
}

export const simDriver: DriverDefinition<SimDeviceConfig> = {
  name: 'sim',
  description: 'Simulated device: waves, random walks, steps and counters, for demos, tests and benchmarks.',
  schema: simDeviceSchema,
  create: (config) => new SimDriver(config),
  pointConfigs: (config) =>
    config.points.flatMap((p) =>
      p.replicas === 1 ? [p] : Array.from({ length: p.replicas }, (_, i) => ({ ...p, name: `${p.name}_${i}` })),
    ),
};

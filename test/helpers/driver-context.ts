/**
 * A DriverContext for driver unit tests: collects emitted samples, records health,
 * and lets the test control time (pass a FakeClock) and stop (abort()).
 */
import type { DriverContext } from '../../src/core/driver.js';
import type { Sample } from '../../src/core/reading.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { DeviceHealth } from '../../src/health/device-health.js';
import { silentLogger } from '../../src/core/log.js';
import { RefCountedResources } from '../../src/core/resources.js';
import { MemoryStateStore } from '../../src/core/state-store.js';

export interface TestContext extends DriverContext {
  samples: Sample[];
  failures: unknown[];
  health: DeviceHealth;
  resources: RefCountedResources;
  state: MemoryStateStore;
  abort(): void;
  /** Resolves once `n` samples in total have been emitted (or rejects after `ms`). */
  waitForSamples(n: number, ms?: number): Promise<Sample[]>;
}

export function testContext(opts: { device?: string; clock?: Clock; state?: MemoryStateStore } = {}): TestContext {
  const clock = opts.clock ?? systemClock;
  const ac = new AbortController();
  const samples: Sample[] = [];
  const failures: unknown[] = [];
  const waiters: { n: number; resolve: (s: Sample[]) => void }[] = [];
  const device = opts.device ?? 'dev-1';
  const ctx: TestContext = {
    device,
    samples,
    failures,
    clock,
    log: silentLogger(),
    signal: ac.signal,
    health: new DeviceHealth(device, clock),
    resources: new RefCountedResources(),
    state: opts.state ?? new MemoryStateStore(),
    emit(s) {
      if (Array.isArray(s)) samples.push(...(s as Sample[]));
      else samples.push(s as Sample);
      for (const w of [...waiters]) {
        if (samples.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(samples);
        }
      }
    },
    fail(err) {
      failures.push(err);
    },
    abort() {
      ac.abort(new Error('stopped'));
    },
    waitForSamples(n, ms = 5000) {
      if (samples.length >= n) return Promise.resolve(samples);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} samples (got ${samples.length})`)), ms);
        waiters.push({
          n,
          resolve: (s) => {
            clearTimeout(t);
            resolve(s);
          },
        });
      });
    },
  };
  return ctx;
}

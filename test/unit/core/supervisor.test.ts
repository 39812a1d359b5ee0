import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../../src/runtime/supervisor.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { silentLogger } from '../../../src/core/log.js';
import type { Driver, DriverContext } from '../../../src/core/driver.js';
import { testContext } from '../../helpers/driver-context.js';

const flush = () => new Promise((r) => setImmediate(r));

describe('Supervisor', () => {
  it('restarts a failing driver with growing backoff and never throws', async () => {
    const clock = new FakeClock({ random: () => 1 });
    const starts: number[] = [];
    let stops = 0;
    const make = (): Driver => ({
      async start() {
        starts.push(clock.mono());
        throw new Error('port /dev/ttyUSB9 not found');
      },
      async stop() {
        stops++;
      },
    });
    const failures: unknown[] = [];
    const sup = new Supervisor({
      device: 'meter-1',
      create: make,
      context: (signal, fail) => ({ ...testContext({ clock }), signal, fail }) as DriverContext,
      clock,
      log: silentLogger(),
      onFailure: (e) => failures.push(e),
      backoff: { base: 1000, max: 4000 },
    });
    await sup.start();
    for (let i = 0; i < 20; i++) {
      await flush();
      clock.advance(500);
    }
    await sup.stop();
    expect(starts).toEqual([0, 1000, 3000, 7000]);
    expect(stops).toBe(starts.length);
    expect(failures.length).toBe(starts.length);
  });

  it('ctx.fail() from a running driver stops it and starts a fresh one', async () => {
    const clock = new FakeClock({ random: () => 1 });
    const instances: { stopped: boolean; fail?: (e: unknown) => void }[] = [];
    const sup = new Supervisor({
      device: 'air-1',
      create: () => {
        const me: { stopped: boolean; fail?: (e: unknown) => void } = { stopped: false };
        instances.push(me);
        return {
          async start(ctx) {
            me.fail = ctx.fail;
          },
          async stop() {
            me.stopped = true;
          },
        };
      },
      context: (signal, fail) => ({ ...testContext({ clock }), signal, fail }) as DriverContext,
      clock,
      log: silentLogger(),
      backoff: { base: 100, max: 100 },
    });
    await sup.start();
    instances[0]!.fail!(new Error('unplugged'));
    instances[0]!.fail!(new Error('unplugged again')); // only one restart per run
    await flush();
    expect(instances[0]!.stopped).toBe(true);
    clock.advance(100);
    await flush();
    expect(instances.length).toBe(2);
    await sup.stop();
    expect(instances[1]!.stopped).toBe(true);
    clock.advance(10_000);
    expect(instances.length).toBe(2);
  });
});

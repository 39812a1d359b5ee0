/**
 * Poll scheduling and dead-slave backoff in fake time: minutes of behaviour in
 * milliseconds, with exact probe times.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { silentLogger } from '../../../src/core/log.js';
import { DeviceHealth } from '../../../src/health/device-health.js';
import type { BusRequest, BusResult } from '../../../src/drivers/modbus/bus.js';
import { ModbusLinkError, ModbusTimeoutError } from '../../../src/drivers/modbus/errors.js';
import { DevicePoller } from '../../../src/drivers/modbus/poller.js';
import { planReads } from '../../../src/drivers/modbus/plan.js';
import { pointSpec } from '../../../src/drivers/modbus/points.js';
import type { Sample } from '../../../src/core/reading.js';

const flush = () => new Promise((r) => setImmediate(r));

function setup(opts: { poll: number; backoffMax: number }) {
  const clock = new FakeClock(); // random() = 0.5 → delays are 75% of the exponential step
  const device = { address_base: 0 as const, byte_order: 'big' as const, word_order: 'big' as const, poll: opts.poll };
  const specs = [
    pointSpec({ name: 'a', table: 'input', address: 0, writable: false }, device),
    pointSpec({ name: 'b', table: 'input', address: 50, writable: false }, device),
  ];
  const reads = planReads(specs, { maxGap: 10, maxRegisters: 125, maxBits: 2000 });
  const log: { t: number; address: number; retries?: number }[] = [];
  let mode: 'alive' | 'dead' | 'unplugged' = 'alive';
  const bus = {
    request(req: BusRequest): Promise<BusResult> {
      const r = req.request as { address: number };
      log.push({ t: clock.mono(), address: r.address, ...(req.retries !== undefined ? { retries: req.retries } : {}) });
      if (mode === 'unplugged') return Promise.reject(new ModbusLinkError('/dev/ttyUSB0 is down'));
      return new Promise((resolve, reject) =>
        clock.setTimer(50, () => (mode === 'dead' ? reject(new ModbusTimeoutError('unit 1 did not answer')) : resolve({ data: [1], latencyMs: 50 }))),
      );
    },
  };
  const samples: Sample[] = [];
  const health = new DeviceHealth('m1', clock);
  const ac = new AbortController();
  const poller = new DevicePoller([{ poll: opts.poll, reads }], {
    device: 'm1', busName: 'rs485-1', unit: 1, bus, clock, health, log: silentLogger(), emit: (s) => samples.push(...s), backoffMax: opts.backoffMax, signal: ac.signal,
  });
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10);
      await flush();
    }
  };
  return { clock, poller, log, samples, health, run, setMode: (m: typeof mode) => (mode = m) };
}

describe('device poller', () => {
  it('polls every interval, each poll sending its planned reads in turn', async () => {
    const s = setup({ poll: 1000, backoffMax: 60_000 });
    s.poller.start();
    await s.run(3000);
    expect(s.log.map((r) => `${r.t}:${r.address}`)).toEqual(['0:0', '50:50', '1000:0', '1050:50', '2000:0', '2050:50', '3000:0']);
    expect(s.samples.filter((x) => x.point === 'a')).toHaveLength(3);
    s.poller.stop();
  });

  it('backs a dead slave off exponentially up to the cap with single no-retry probes, and resumes at once', async () => {
    const s = setup({ poll: 1000, backoffMax: 8000 });
    s.setMode('dead');
    s.poller.start();
    await s.run(40_000);
    // poll at 0 fails at 50; probes after 750, 1500, 3000, 6000, 6000 … ms (jitter 0.5 at random 0.5)
    expect(s.log.map((r) => r.t)).toEqual([0, 800, 2350, 5400, 11450, 17500, 23550, 29600, 35650]);
    expect(s.log.slice(1).every((r) => r.retries === 0 && r.address === 0)).toBe(true);
    expect(s.health.state()).toBe('down');
    expect(s.health.snapshot().counters).toMatchObject({ timeouts: 9 });

    s.setMode('alive');
    const n = s.log.length;
    await s.run(8000);
    // the probe at 41700 answers, the full poll follows at once, then every second
    const after = s.log.slice(n).map((r) => `${r.t}:${r.address}`);
    expect(after.slice(0, 3)).toEqual(['41700:0', '41750:0', '41800:50']);
    expect(s.health.state()).toBe('ok');
    expect(s.log.slice(n).filter((r) => r.address === 50).length).toBeGreaterThanOrEqual(6);
    s.poller.stop();
  });

  it('does not back off when the port itself is down (the bus fails fast), and counts nothing as a timeout', async () => {
    const s = setup({ poll: 1000, backoffMax: 8000 });
    s.setMode('unplugged');
    s.poller.start();
    await s.run(5000);
    expect(s.log.map((r) => r.t)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(s.health.snapshot().counters.timeouts).toBeUndefined();
    expect(s.health.snapshot().last_error).toMatch(/device m1, bus rs485-1, unit 1.*ttyUSB0 is down/);
    s.poller.stop();
  });

  it('a poll that overran is followed at once by one more, never by a backlog', async () => {
    const s = setup({ poll: 60, backoffMax: 8000 });
    s.poller.start();
    await s.run(600); // each poll takes 100 ms (two 50 ms reads) but is due every 60 ms
    expect(s.health.snapshot().counters.overruns).toBeGreaterThan(0);
    const starts = s.log.filter((r) => r.address === 0).map((r) => r.t);
    expect(starts).toEqual([0, 100, 200, 300, 400, 500, 600]); // back to back, one at a time
    s.poller.stop();
  });

  it('stop() cancels every timer', async () => {
    const s = setup({ poll: 1000, backoffMax: 8000 });
    s.poller.start();
    await s.run(100);
    s.poller.stop();
    await s.run(100);
    expect(s.clock.pending()).toBe(0);
  });
});

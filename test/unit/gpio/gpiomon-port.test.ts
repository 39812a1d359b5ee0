/**
 * The gpiomon port: edges with the kernel's timestamps, so a stalled event loop delays
 * pulses but never merges them. `gpiomon` and `gpioget` are stand-ins here (no kernel GPIO
 * chip on a test host; the qemu machine test has gpio-sim): small programs that print what
 * libgpiod 1.6's tools print (`--format=%e %s %n`: 0/1, seconds, nanoseconds of
 * CLOCK_MONOTONIC), each edge written once its time has come, as the kernel would queue it.
 * The pulse train is 20 Hz with 25 ms levels and a 20 ms debounce — the rate at which the
 * sysfs port counted 57 of 200 — and the test blocks its own event loop for real halfway.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock.js';
import { TOTAL_KEY } from '../../../src/drivers/gpio/counter.js';
import { GpioDriver } from '../../../src/drivers/gpio/index.js';
import { gpioDeviceSchema } from '../../../src/drivers/gpio/schema.js';
import { GpiomonGpioPort, monoFromKernelNs, parseGpiomonLine } from '../../../src/ports/gpio/gpiomon-port.js';
import { testContext } from '../../helpers/driver-context.js';
import { TREES, buildTree } from './fixtures/tree.js';

const PULSES = 40;

/** `misread`: the index of one edge printed with the level after it (a falling edge printed rising), as uAPI v1 does when its interrupt thread reads the level late. */
function standIns(misread = -1): { dir: string; gpiomon: string; gpioget: string; args: string; done: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cg-gpiomon-'));
  const args = join(dir, 'args.json');
  const done = join(dir, 'done');
  const gpiomon = join(dir, 'gpiomon');
  writeFileSync(
    gpiomon,
    `#!${process.execPath}
require('node:fs').writeFileSync(${JSON.stringify(args)}, JSON.stringify(process.argv.slice(2)));
const t0 = process.hrtime.bigint() + 100_000_000n;
const ms = 1_000_000n;
const events = [];
for (let i = 0n; i < ${PULSES}n; i++) {
  events.push([0, t0 + i * 50n * ms], [1, t0 + i * 50n * ms + 25n * ms]);
}
let k = 0;
const next = () => {
  while (k < events.length && events[k][1] <= process.hrtime.bigint()) {
    const [e0, t] = events[k++];
    const e = k - 1 === ${misread} ? 1 - e0 : e0;
    process.stdout.write(e + ' ' + (t / 1_000_000_000n) + ' ' + (t % 1_000_000_000n) + '\\n');
  }
  if (k < events.length) setTimeout(next, 2);
  else require('node:fs').writeFileSync(${JSON.stringify(done)}, '');
};
next();
setInterval(() => {}, 60_000); // gpiomon runs until killed
`,
  );
  const gpioget = join(dir, 'gpioget');
  writeFileSync(gpioget, `#!${process.execPath}\nprocess.stdout.write('1\\n');\n`);
  chmodSync(gpiomon, 0o755);
  chmodSync(gpioget, 0o755);
  return { dir, gpiomon, gpioget, args, done };
}

function stallLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('gpiomon port', () => {
  it('parses gpiomon lines and maps CLOCK_MONOTONIC to performance.now()', () => {
    expect(parseGpiomonLine('1 12 000000345')).toEqual({ level: 1, ns: 12_000_000_345n });
    expect(parseGpiomonLine('event: FALLING EDGE')).toBeUndefined();
    const now = monoFromKernelNs(process.hrtime.bigint());
    expect(Math.abs(now - performance.now())).toBeLessThan(50);
  });

  it('counts every pulse of a 20 Hz train exactly, through a 400 ms stall of the event loop', async () => {
    const s = standIns();
    const root = buildTree(TREES['gpio-sim-qemu'] ?? []);
    const cfg = gpioDeviceSchema.parse({
      id: 'pulses', driver: 'gpio', backend: 'gpiomon', chip: 'gpio-sim.0-node0', line: 3, mode: 'counter', debounce: '20ms', report: '60s',
    });
    const ctx = testContext({ clock: systemClock, device: 'pulses' });
    const driver = new GpioDriver(cfg, () => new GpiomonGpioPort({ root, gpiomon: s.gpiomon, gpioget: s.gpioget }));
    await driver.start(ctx);
    await new Promise((r) => setTimeout(r, 900));
    stallLoop(400); // ~8 pulses come and go while no JavaScript runs
    // the train ends 100 + 40 × 50 ms after gpiomon started: wait for its last edge (bounded)
    for (let i = 0; i < 400 && !existsSync(s.done); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(s.done)).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // the last edge is read and settles
    await driver.stop();
    expect(JSON.parse(readFileSync(s.args, 'utf8'))).toEqual(['--line-buffered', '--format=%e %s %n', 'gpio-sim.0-node0', '3']);
    expect(ctx.state.get(TOTAL_KEY)).toBe(PULSES);
    const counters = ctx.health.snapshot().counters;
    expect(counters.bounces_rejected).toBeUndefined();
    expect(counters.uncertain_loop_stall).toBeUndefined();
  });

  it('an edge reported with the wrong level (two in a row the same) loses a pulse: the window is uncertain, not good', async () => {
    const s = standIns(20); // pulse 11's falling edge reported as rising: the kernel read the level late
    const root = buildTree(TREES['gpio-sim-qemu'] ?? []);
    const cfg = gpioDeviceSchema.parse({
      id: 'pulses', driver: 'gpio', backend: 'gpiomon', chip: 'gpio-sim.0-node0', line: 3, mode: 'counter', debounce: '20ms', report: '1s',
    });
    const ctx = testContext({ clock: systemClock, device: 'pulses' });
    const driver = new GpioDriver(cfg, () => new GpiomonGpioPort({ root, gpiomon: s.gpiomon, gpioget: s.gpioget }));
    await driver.start(ctx);
    for (let i = 0; i < 400 && !existsSync(s.done); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1200)); // the window holding the misread edge is reported
    await driver.stop();
    expect(ctx.state.get(TOTAL_KEY)).toBe(PULSES - 1);
    const counters = ctx.health.snapshot().counters;
    expect(counters.uncertain_repeated_edge).toBeGreaterThanOrEqual(1);
    expect(counters.uncertain_reports).toBeGreaterThanOrEqual(1);
  });

  it('refuses outputs, and says which tool is missing', async () => {
    const root = buildTree(TREES['gpio-sim-qemu'] ?? []);
    const port = new GpiomonGpioPort({ root, gpioget: join(root, 'no-such-gpioget') });
    await expect(port.open({ chip: 'gpio-sim.0-node0', line: 1 }, { direction: 'out' })).rejects.toThrow('reads inputs only');
    await expect(port.open({ chip: 'gpio-sim.0-node0', line: 1 }, { direction: 'in' })).rejects.toThrow(
      /gpio-sim.0-node0 line 1: `.*no-such-gpioget gpio-sim.0-node0 1` failed: .*install|gpiod package/,
    );
  });
});

/**
 * Lines named by chip and offset, as libgpiod names them (`chip: gpio-sim.0-node0` or
 * `chip: gpiochip1`, `line: 3`), on a sysfs tree shaped like gpio-sim's under qemu: the
 * resolution to the sysfs number, the errors a technician reads, and a real open, read,
 * write and watch through the plain-file port.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { GpioDriver, gpioDriver } from '../../../src/drivers/gpio/index.js';
import { checkGpioDevice, gpioDeviceSchema } from '../../../src/drivers/gpio/schema.js';
import { GpioSetupError } from '../../../src/ports/gpio/errors.js';
import { FakeGpioPort } from '../../../src/ports/gpio/fake-port.js';
import { SysfsFileGpioPort } from '../../../src/ports/gpio/sysfs-file-port.js';
import { listChips, preflight, resolveLine } from '../../../src/ports/gpio/sysfs.js';
import type { Level } from '../../../src/ports/gpio/port.js';
import { testContext } from '../../helpers/driver-context.js';
import { TREES, buildTree, exportLine } from './fixtures/tree.js';

const sim = (): string => buildTree(TREES['gpio-sim-qemu'] ?? []);

async function setupError(p: Promise<unknown>): Promise<GpioSetupError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GpioSetupError);
  return err as GpioSetupError;
}

describe('chip and line resolution through sysfs', () => {
  it('finds a chip by label or by /dev name, and adds its base', async () => {
    const root = sim();
    expect((await listChips(root)).map((c) => [c.name, c.device, c.label])).toEqual([
      ['gpiochip496', 'gpiochip2', 'gpio-sim.0-node1'],
      ['gpiochip504', 'gpiochip1', 'gpio-sim.0-node0'],
    ]);
    await expect(resolveLine(root, { chip: 'gpio-sim.0-node0', line: 3 })).resolves.toMatchObject({ kernel: 507 });
    await expect(resolveLine(root, { chip: 'gpiochip2', line: 0 })).resolves.toMatchObject({ kernel: 496 });
    await expect(preflight(root, { chip: 'gpiochip1', line: 7 })).resolves.toMatchObject({ kernel: 511, exported: false });
  });

  it('an offset beyond the chip names the chip and its size', async () => {
    const err = await setupError(resolveLine(sim(), { chip: 'gpio-sim.0-node0', line: 8 }));
    expect(err.problem).toBe('no-such-pin');
    expect(err.message).toBe(
      'line 8 does not exist on GPIO chip gpio-sim.0-node0 (gpiochip1), which has 8 lines (offsets 0–7) — `gpioinfo` lists them',
    );
  });

  it('an unknown chip lists the chips present', async () => {
    const root = sim();
    const err = await setupError(resolveLine(root, { chip: 'gpio-sim.1-node0', line: 0 }));
    expect(err.problem).toBe('no-such-chip');
    expect(err.message).toContain(`no GPIO chip "gpio-sim.1-node0" under ${root}`);
    expect(err.message).toContain('gpiochip2 "gpio-sim.0-node1" (8 lines, sysfs base 496), gpiochip1 "gpio-sim.0-node0" (8 lines, sysfs base 504)');
  });

  it('the sysfs directory name is not a chip name (it is numbered by base, not like /dev)', async () => {
    await expect(resolveLine(sim(), { chip: 'gpiochip504', line: 0 })).rejects.toThrow(/no GPIO chip "gpiochip504"/);
  });

  it('a Pi chip can be named either way: BCM 17 and pinctrl-bcm2711 line 17 are gpio529', async () => {
    const root = buildTree(TREES['bcm2711-bookworm'] ?? []);
    await expect(resolveLine(root, 17)).resolves.toMatchObject({ kernel: 529 });
    await expect(resolveLine(root, { chip: 'pinctrl-bcm2711', line: 17 })).resolves.toMatchObject({ kernel: 529 });
    const port = new SysfsFileGpioPort(root, { exportWaitMs: 50 });
    // the tree is plain files: the kernel's export is played by creating gpio529/ beforehand
    exportLine(root, 529);
    const a = await port.open(17, { direction: 'in' });
    await expect(port.open({ chip: 'pinctrl-bcm2711', line: 17 }, { direction: 'in' })).rejects.toThrow(
      'pinctrl-bcm2711 line 17 (gpio529) is already open in this process',
    );
    await a.close();
  });
});

describe('the plain-file port on a chip line', () => {
  it('opens, reads, writes and watches gpio<base+offset>', async () => {
    const root = sim();
    exportLine(root, 507);
    exportLine(root, 500);
    const port = new SysfsFileGpioPort(root, { pollMs: 2 });
    const input = await port.open({ chip: 'gpio-sim.0-node0', line: 3 }, { direction: 'in', edge: 'falling' });
    expect(input.pin).toEqual({ chip: 'gpio-sim.0-node0', line: 3 });
    expect(await readFile(join(root, 'gpio507', 'edge'), 'utf8')).toBe('falling');
    await writeFile(join(root, 'gpio507', 'value'), '1\n');
    expect(await input.read()).toBe(1);
    const seen: Level[] = [];
    const stop = input.watch((v) => seen.push(v));
    await writeFile(join(root, 'gpio507', 'value'), '0\n');
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    stop();
    expect(seen).toEqual([0]);

    const out = await port.open({ chip: 'gpiochip2', line: 4 }, { direction: 'out', initial: 1 });
    expect((await readFile(join(root, 'gpio500', 'value'), 'utf8')).trim()).toBe('1');
    await out.write(0);
    expect((await readFile(join(root, 'gpio500', 'value'), 'utf8')).trim()).toBe('0');
    await input.close();
    await out.close();
  });
});

describe('gpio driver on a chip line', () => {
  it('opens the named line, names it in messages and in gpio_set, and claims chip:line', async () => {
    const cfg = gpioDeviceSchema.parse({ id: 'relay', driver: 'gpio', chip: 'gpio-sim.0-node0', line: 4, mode: 'output' });
    expect(gpioDriver.claims?.(cfg)).toEqual(['gpio:gpio-sim.0-node0:4']);
    expect(checkGpioDevice(cfg)).toEqual([]); // no BCM/header mix-up warnings for chip lines
    const port = new FakeGpioPort();
    const ctx = testContext({ clock: new FakeClock(), device: 'relay' });
    const driver = new GpioDriver(cfg, () => port);
    await driver.start(ctx);
    expect(port.line({ chip: 'gpio-sim.0-node0', line: 4 }).opts).toMatchObject({ direction: 'out' });
    await expect(driver.actions.gpio_set?.({ value: 1 })).resolves.toEqual({ chip: 'gpio-sim.0-node0', line: 4, value: 1 });
    await expect(driver.actions.gpio_set?.({ value: 7 })).rejects.toThrow('gpio device "relay" (gpio-sim.0-node0 line 4): gpio_set needs value 0 or 1');
    await driver.stop();
  });

  it('a start on a missing chip fails with the chips present, not a stack trace', async () => {
    const root = sim();
    const cfg = gpioDeviceSchema.parse({ id: 'c', driver: 'gpio', chip: 'nope', line: 1, mode: 'input' });
    const driver = new GpioDriver(cfg, () => new SysfsFileGpioPort(root));
    await expect(driver.start(testContext({ clock: new FakeClock(), device: 'c' }))).rejects.toThrow(
      /gpio device "c" \(nope line 1\): no GPIO chip "nope" .*chips present: gpiochip2 "gpio-sim.0-node1"/,
    );
  });
});

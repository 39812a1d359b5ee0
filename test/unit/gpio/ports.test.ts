// The GPIO port implementations that do not need a Raspberry Pi: the plain-file sysfs
// port against trees the test builds, and what of the onoff adapter can run without one.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpioSetupError } from '../../../src/ports/gpio/errors.js';
import { OnoffGpioPort, outputDirection, translate } from '../../../src/ports/gpio/onoff-port.js';
import { SysfsFileGpioPort } from '../../../src/ports/gpio/sysfs-file-port.js';
import type { Level } from '../../../src/ports/gpio/port.js';
import { TREES, buildTree, exportLine } from './fixtures/tree.js';

const pi4 = () => TREES['bcm2711-bookworm'] ?? [];
const read = (root: string, f: string): string => readFileSync(join(root, f), 'utf8').trim();

describe('SysfsFileGpioPort', () => {
  it('exports BCM 17 as gpio529 and configures an input', async () => {
    const root = buildTree(pi4());
    // play the kernel: a write of "529" to export creates gpio529/
    const port = new SysfsFileGpioPort(root, { exportWaitMs: 2000 });
    const opening = port.open(17, { direction: 'in', edge: 'both', activeLow: true });
    const t = setInterval(() => {
      if (read(root, 'export') === '529') {
        clearInterval(t);
        exportLine(root, 529);
      }
    }, 5);
    const line = await opening;
    expect([read(root, 'gpio529/direction'), read(root, 'gpio529/edge'), read(root, 'gpio529/active_low')]).toEqual(['in', 'both', '1']);
    writeFileSync(join(root, 'gpio529/value'), '0\n');
    expect(await line.read()).toBe(1); // active low: 0 V reads 1
    await line.close();
    expect(read(root, 'unexport')).toBe('529');
  });

  it('says so when the exported line never appears', async () => {
    const port = new SysfsFileGpioPort(buildTree(pi4()), { exportWaitMs: 50 });
    await expect(port.open(17, { direction: 'in' })).rejects.toThrow(/GPIO 17: exported gpio529 but .*gpio529 did not appear/);
  });

  it('drives an output to its initial level, inverting for active low', async () => {
    const root = buildTree(pi4(), { exported: [530] });
    const line = await new SysfsFileGpioPort(root).open(18, { direction: 'out', initial: 1, activeLow: true });
    expect([read(root, 'gpio530/direction'), read(root, 'gpio530/value')]).toEqual(['out', '0']);
    await line.write(0);
    expect(read(root, 'gpio530/value')).toBe('1');
    expect(line.preexisting).toBe(true);
    await line.close();
    expect(read(root, 'unexport')).toBe(''); // exported by someone else: stays exported
  });

  it('watch reports changes after the last read, and stops on unsubscribe', async () => {
    const root = buildTree(pi4(), { exported: [529] });
    const line = await new SysfsFileGpioPort(root, { pollMs: 2 }).open(17, { direction: 'in', edge: 'both' });
    expect(await line.read()).toBe(0);
    const seen: Level[] = [];
    const stop = line.watch((v) => seen.push(v));
    writeFileSync(join(root, 'gpio529/value'), '1\n');
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 2));
    };
    await until(1);
    writeFileSync(join(root, 'gpio529/value'), '0\n');
    await until(2);
    expect(seen).toEqual([1, 0]);
    stop();
    writeFileSync(join(root, 'gpio529/value'), '1\n');
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual([1, 0]);
    await line.close();
  });
});

describe('OnoffGpioPort (no Pi needed for these)', () => {
  it('sets an output level and direction in one step, in raw levels (gpiolib-sysfs "high"/"low")', () => {
    expect(outputDirection(1, false)).toBe('high');
    expect(outputDirection(0, false)).toBe('low');
    expect(outputDirection(1, true)).toBe('low');
    expect(outputDirection(0, true)).toBe('high');
  });

  it('runs the preflight first: no Pi controller, no onoff', async () => {
    const root = buildTree([{ base: 0, label: 'gpio-mockup-A', ngpio: 8 }]);
    const err = await new OnoffGpioPort(root).open(17, { direction: 'in' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpioSetupError);
    expect((err as GpioSetupError).problem).toBe('no-controller');
  });

  it('translates what onoff throws into setup errors naming the pin', () => {
    const errno = (code: string): Error => Object.assign(new Error(`${code}: failed, open '/sys/class/gpio/gpio529/value'`), { code });
    const cases = [errno('EACCES'), errno('EBUSY'), errno('ENOENT'), errno('EINVAL')].map((e) => translate(17, 529, e) as GpioSetupError);
    expect(cases.map((e) => e.problem)).toEqual(['permission', 'busy', 'missing', 'io']);
    expect(cases[0]?.message).toContain('sudo usermod -aG gpio');
    expect(cases[1]?.message).toMatch(/^GPIO 17 \(sysfs gpio529\) is in use by a kernel driver/);
    expect(cases[3]?.message).toMatch(/^GPIO 17 \(sysfs gpio529\): cannot set up the line: .*rejected the line number/);
  });
});

describe('OnoffGpioPort adapter logic, with a stand-in for onoff\'s Gpio', () => {
  type Cb = (err: Error | null | undefined, v: 0 | 1) => void;
  function standIn(failures: string[]) {
    const made: FakeOnoff[] = [];
    class FakeOnoff {
      listeners: Cb[] = [];
      unexported = false;
      unwatched = false;
      value: 0 | 1 = 0;
      constructor(
        readonly kernel: number,
        readonly direction: string,
        readonly edge: string,
        readonly options: { activeLow: boolean },
      ) {
        const code = failures.shift();
        if (code) throw Object.assign(new Error(`${code}: permission denied, open '/sys/class/gpio/gpio${kernel}/value'`), { code });
        made.push(this);
      }
      async read() {
        return this.value;
      }
      async write(v: 0 | 1) {
        this.value = v;
      }
      watch(cb: Cb) {
        this.listeners.push(cb);
      }
      unwatch(cb: Cb) {
        this.listeners = this.listeners.filter((l) => l !== cb);
      }
      unwatchAll() {
        this.unwatched = true;
        this.listeners = [];
      }
      unexport() {
        this.unexported = true;
      }
    }
    return { made, cls: FakeOnoff as unknown as ConstructorParameters<typeof OnoffGpioPort>[1] };
  }

  it('opens base + BCM with the edge for inputs, raw direction for outputs, and unexports what it exported', async () => {
    const { made, cls } = standIn([]);
    const port = new OnoffGpioPort(buildTree(TREES['rp1-pi5'] ?? []), cls);
    const input = await port.open(17, { direction: 'in', edge: 'both', activeLow: true });
    const out = await port.open(18, { direction: 'out', initial: 1, activeLow: true });
    expect(made.map((g) => [g.kernel, g.direction, g.edge, g.options.activeLow])).toEqual([
      [588, 'in', 'both', true],
      [589, 'low', 'none', true],
    ]);
    await expect(port.open(17, { direction: 'in' })).rejects.toThrow('GPIO 17 (gpio588) is already open');
    const seen: number[] = [];
    const errors: string[] = [];
    input.watch((v) => seen.push(v), (e) => errors.push(e.message));
    made[0]?.listeners.forEach((l) => l(null, 1));
    made[0]?.listeners.forEach((l) => l(new Error('EIO'), 0));
    expect(seen).toEqual([1]);
    expect(errors).toEqual(['GPIO 17: watch failed: EIO']);
    await input.close();
    await out.close();
    expect(made.map((g) => g.unexported)).toEqual([true, true]);
    await expect(port.open(17, { direction: 'in' })).resolves.toBeDefined(); // released
  });

  it('retries once when udev has not yet fixed the permissions of a line it just exported', async () => {
    const { made, cls } = standIn(['EACCES']);
    const line = await new OnoffGpioPort(buildTree(pi4()), cls).open(17, { direction: 'in', edge: 'both' });
    expect(made).toHaveLength(1);
    expect(line.preexisting).toBe(false);
  });

  it('does not retry for a line that was already exported, and says what to do', async () => {
    const { cls } = standIn(['EACCES', 'EACCES']);
    const root = buildTree(pi4(), { exported: [529] });
    const err = await new OnoffGpioPort(root, cls).open(17, { direction: 'in' }).catch((e: unknown) => e);
    expect((err as GpioSetupError).problem).toBe('permission');
  });

  it('leaves a line it found exported exported (a running gateway may own it)', async () => {
    const { made, cls } = standIn([]);
    const line = await new OnoffGpioPort(buildTree(pi4(), { exported: [529] }), cls).open(17, { direction: 'in' });
    expect(line.preexisting).toBe(true);
    await line.close();
    expect(made[0]?.unexported).toBe(false);
    expect(made[0]?.unwatched).toBe(true);
  });
});

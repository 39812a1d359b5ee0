/**
 * The production GPIO port: sysfs GPIO through onoff (edges via epoll on the value file).
 *
 * onoff's quirks, kept in here:
 * - it numbers lines the kernel's way and hard-codes /sys/class/gpio, so on Bookworm
 *   `new Gpio(17)` fails with EINVAL (fivdi/onoff #199, #200; PR #204 unmerged). We pass
 *   base + BCM from sysfs.ts, after `preflight()` has checked access, so a technician reads
 *   "join group gpio" rather than a bare EACCES (test/unit/gpio/sysfs.test.ts);
 * - its constructor busy-waits (up to 10,000 open() attempts) while udev fixes the
 *   permissions of a freshly exported line; that blocks the event loop for a moment once
 *   per open, which we accept over re-implementing export. If udev is slower than the
 *   busy-wait, we retry once after a short pause (test/unit/gpio/ports.test.ts);
 * - its unexport() is the only way to close a line; a line someone else exported is
 *   closed without unexporting it (see OnoffLine.close);
 * - its own debounce is lodash's on wall time; we leave it off and debounce on the
 *   injected clock in the driver.
 * onoff is loaded lazily: its native epoll addon only exists on Linux.
 */
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Gpio as OnoffGpio, Direction, BinaryValue } from 'onoff';
import { describeError } from '../../core/errors.js';
import { GpioSetupError, lineBusy, permissionDenied, sysfsMissing } from './errors.js';
import { lineName, type GpioLine, type GpioLineOptions, type GpioPort, type Level, type LineRef } from './port.js';
import { DEFAULT_SYSFS_ROOT, preflight } from './sysfs.js';

type OnoffModule = typeof import('onoff');

/** How long udev gets to fix a freshly exported line's permissions before the retry. */
const UDEV_GRACE_MS = 250;

let onoff: OnoffModule | undefined;
function loadOnoff(): OnoffModule {
  onoff ??= createRequire(import.meta.url)('onoff') as OnoffModule;
  return onoff;
}

/** Initial direction for an output: the kernel sets level and direction in one step. */
export function outputDirection(initial: Level, activeLow: boolean): Direction {
  // "high"/"low" written to `direction` are *raw* levels (gpiolib-sysfs calls
  // gpiod_direction_output_raw), so with active_low the logical level is inverted here.
  const raw = activeLow ? 1 - initial : initial;
  return raw === 1 ? 'high' : 'low';
}

class OnoffLine implements GpioLine {
  private closed = false;
  private readonly listeners = new Set<(err: Error | null | undefined, value: BinaryValue) => void>();

  private readonly name: string;

  constructor(
    readonly pin: LineRef,
    private readonly kernel: number,
    private readonly gpio: OnoffGpio,
    readonly preexisting: boolean,
    private readonly release: () => void,
  ) {
    this.name = lineName(pin);
  }

  async read(): Promise<Level> {
    try {
      return await this.gpio.read();
    } catch (err) {
      throw new Error(`${this.name} (gpio${this.kernel}): read failed: ${describeError(err)}`, { cause: err });
    }
  }

  async write(value: Level): Promise<void> {
    try {
      await this.gpio.write(value);
    } catch (err) {
      throw new Error(`${this.name} (gpio${this.kernel}): write failed: ${describeError(err)}`, { cause: err });
    }
  }

  watch(listener: (value: Level) => void, onError?: (err: Error) => void): () => void {
    const cb = (err: Error | null | undefined, value: BinaryValue): void => {
      if (err) onError?.(new Error(`${this.name}: watch failed: ${describeError(err)}`, { cause: err }));
      else listener(value);
    };
    this.listeners.add(cb);
    this.gpio.watch(cb);
    return () => {
      if (this.listeners.delete(cb) && !this.closed) this.gpio.unwatch(cb);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    try {
      if (!this.preexisting) {
        this.gpio.unexport(); // also unwatches and closes the value fd
      } else {
        // onoff has no "close without unexport"; its unexport() is unwatchAll + close of the
        // value fd + the unexport write, so do the first two through its private fd.
        this.gpio.unwatchAll();
        const fd = (this.gpio as unknown as { _valueFd?: number })._valueFd;
        if (typeof fd === 'number') closeSync(fd);
      }
    } catch {
      // shutdown carries on; the kernel frees the line at reboot
    }
    this.release();
  }
}

export class OnoffGpioPort implements GpioPort {
  private readonly open_ = new Set<number>();

  /**
   * `root` is only for the preflight checks: onoff itself always uses /sys/class/gpio.
   * `gpioClass` replaces onoff's Gpio in adapter tests (onoff cannot run off a Pi).
   */
  constructor(
    private readonly root = DEFAULT_SYSFS_ROOT,
    private readonly gpioClass?: OnoffModule['Gpio'],
  ) {}

  async open(pin: LineRef, opts: GpioLineOptions): Promise<GpioLine> {
    const { kernel, exported } = await preflight(this.root, pin);
    // keyed by sysfs number: BCM 17 and pinctrl-bcm2711 line 17 are one line
    if (this.open_.has(kernel)) throw new Error(`${lineName(pin)} (gpio${kernel}) is already open in this process`);
    const activeLow = opts.activeLow ?? false;
    const direction: Direction = opts.direction === 'out' ? outputDirection(opts.initial ?? 0, activeLow) : 'in';
    const Gpio = this.gpioClass ?? loadOnoff().Gpio;
    // onoff writes `edge` only for inputs (writing it on an output can EIO: fivdi/onoff #87)
    const edge = opts.direction === 'in' ? (opts.edge ?? 'none') : 'none';
    let gpio: OnoffGpio;
    try {
      gpio = new Gpio(kernel, direction, edge, { activeLow });
    } catch (err) {
      // Right after an export, udev may still be handing the new files to group gpio and
      // onoff's busy-wait can give up first (raspberrypi/linux #553): give udev a moment
      // and try once more; the line is exported by then, so onoff only configures it.
      const code = (err as NodeJS.ErrnoException).code;
      if (exported || (code !== 'EACCES' && code !== 'EPERM')) throw translate(pin, kernel, err);
      await new Promise((r) => setTimeout(r, UDEV_GRACE_MS));
      try {
        gpio = new Gpio(kernel, direction, edge, { activeLow });
      } catch (again) {
        throw translate(pin, kernel, again);
      }
    }
    this.open_.add(kernel);
    return new OnoffLine(pin, kernel, gpio, exported, () => this.open_.delete(kernel));
  }
}

/** onoff's errno errors, as a technician should read them. */
export function translate(ref: LineRef, kernel: number, err: unknown): Error {
  const pin = lineName(ref);
  if (err instanceof GpioSetupError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return permissionDenied(`/sys/class/gpio/gpio${kernel}`, err);
  if (code === 'EBUSY') return lineBusy(pin, kernel, err);
  // onoff always uses /sys/class/gpio, whatever root the preflight checked
  if (code === 'ENOENT') return sysfsMissing('/sys/class/gpio');
  return new GpioSetupError(
    'io',
    `${pin} (sysfs gpio${kernel}): cannot set up the line: ${describeError(err)}` +
      (code === 'EINVAL' ? ' — the kernel rejected the line number; check `cat /sys/class/gpio/gpiochip*/label`' : ''),
  );
}

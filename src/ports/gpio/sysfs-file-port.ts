/**
 * A GPIO port that speaks sysfs with plain file reads and writes against any root
 * directory, finding edges by polling the value file. It exists because onoff hard-codes
 * /sys/class/gpio and its epoll watch cannot see changes to ordinary files (checked:
 * docs/field-notes.md#onoff-and-sysfs): the probe's hidden `--sysfs-root` uses it so the CLI can be exercised
 * end to end against a tree a test builds. On real sysfs it works too, but polling costs
 * CPU and can miss pulses shorter than the poll period: production uses OnoffGpioPort.
 *
 * Active-low is written to the line's `active_low` attribute (as the kernel would apply
 * it), and applied here too when reading and writing, since a plain file does not invert.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../../core/errors.js';
import { GpioSetupError, permissionDenied } from './errors.js';
import { lineName, type GpioLine, type GpioLineOptions, type GpioPort, type Level, type LineRef } from './port.js';
import { isExported, preflight } from './sysfs.js';

export interface SysfsFilePortOptions {
  /** Poll period for watch(), ms. */
  pollMs?: number;
  /** How long to wait for `gpioN/` to appear after export (udev), ms. */
  exportWaitMs?: number;
}

class FileLine implements GpioLine {
  private closed = false;
  /** The last level read: a new watch compares against it, so no edge after a read is missed. */
  private lastRead: Level | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly name: string;

  constructor(
    readonly pin: LineRef,
    private readonly dir: string,
    private readonly root: string,
    private readonly kernel: number,
    private readonly opts: GpioLineOptions,
    private readonly pollMs: number,
    readonly preexisting: boolean,
    private readonly release: () => void,
  ) {
    this.name = lineName(pin);
  }

  private get activeLow(): boolean {
    return this.opts.activeLow ?? false;
  }

  /** Whether a change to `v` is an edge this line reports, as the kernel filters by `edge`. */
  private reports(v: Level): boolean {
    const edge = this.opts.edge ?? 'none';
    return edge === 'both' || (edge === 'rising' && v === 1) || (edge === 'falling' && v === 0);
  }

  private invert(v: Level): Level {
    return this.activeLow ? ((1 - v) as Level) : v;
  }

  async read(): Promise<Level> {
    try {
      const raw = (await readFile(join(this.dir, 'value'), 'utf8')).trim();
      this.lastRead = this.invert(raw === '1' ? 1 : 0);
      return this.lastRead;
    } catch (err) {
      throw new Error(`${this.name} (gpio${this.kernel}): read failed: ${describeError(err)}`, { cause: err });
    }
  }

  async write(value: Level): Promise<void> {
    if (this.opts.direction !== 'out') throw new Error(`${this.name} (gpio${this.kernel}): write to an input line`);
    try {
      await writeFile(join(this.dir, 'value'), String(this.invert(value)));
    } catch (err) {
      throw new Error(`${this.name} (gpio${this.kernel}): write failed: ${describeError(err)}`, { cause: err });
    }
  }

  watch(listener: (value: Level) => void, onError?: (err: Error) => void): () => void {
    let last: Level | undefined = this.lastRead;
    let stopped = false;
    let timer: NodeJS.Timeout;
    const poll = async (): Promise<void> => {
      try {
        const v = await this.read();
        if (!stopped && last !== undefined && v !== last && this.reports(v)) listener(v);
        last = v;
      } catch (err) {
        if (!stopped) onError?.(err as Error);
      }
      if (!stopped && !this.closed) {
        this.timers.delete(timer);
        timer = setTimeout(() => void poll(), this.pollMs);
        this.timers.add(timer);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.preexisting) await writeFile(join(this.root, 'unexport'), String(this.kernel)).catch(() => undefined);
  }
}

export class SysfsFileGpioPort implements GpioPort {
  private readonly open_ = new Set<number>();

  constructor(
    private readonly root: string,
    private readonly opts: SysfsFilePortOptions = {},
  ) {}

  async open(pin: LineRef, opts: GpioLineOptions): Promise<GpioLine> {
    const { kernel, exported } = await preflight(this.root, pin);
    // keyed by sysfs number: BCM 17 and pinctrl-bcm2711 line 17 are one line
    if (this.open_.has(kernel)) throw new Error(`${lineName(pin)} (gpio${kernel}) is already open in this process`);
    this.open_.add(kernel);
    try {
      return await this.setUp(pin, kernel, exported, opts);
    } catch (err) {
      this.open_.delete(kernel);
      throw err;
    }
  }

  private async setUp(ref: LineRef, kernel: number, exported: boolean, opts: GpioLineOptions): Promise<GpioLine> {
    const pin = lineName(ref);
    const dir = join(this.root, `gpio${kernel}`);
    const write = async (file: string, text: string): Promise<void> => {
      try {
        await writeFile(join(this.root, file), text);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') throw permissionDenied(join(this.root, file), err);
        throw new GpioSetupError('io', `${pin} (gpio${kernel}): writing ${file} failed: ${describeError(err)}`);
      }
    };
    if (!exported) {
      await write('export', String(kernel));
      const end = Date.now() + (this.opts.exportWaitMs ?? 1000);
      while (!(await isExported(this.root, kernel))) {
        if (Date.now() > end) {
          throw new GpioSetupError('io', `${pin}: exported gpio${kernel} but ${dir} did not appear`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const rel = `gpio${kernel}`;
    await write(`${rel}/active_low`, opts.activeLow ? '1' : '0');
    const line = new FileLine(ref, dir, this.root, kernel, opts, this.opts.pollMs ?? 5, exported, () => this.open_.delete(kernel));
    if (opts.direction === 'out') {
      await write(`${rel}/direction`, 'out');
      await line.write(opts.initial ?? 0);
    } else {
      await write(`${rel}/direction`, 'in');
      await write(`${rel}/edge`, opts.edge ?? 'none');
    }
    return line;
  }
}

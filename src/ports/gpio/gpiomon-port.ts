/**
 * A GPIO port for inputs through the kernel's GPIO character device, by way of `gpiomon`
 * and `gpioget` from Debian's `gpiod` package (libgpiod 1.6): no native addon. `gpiomon`
 * runs in its own process, outside Node's event loop, reads the kernel's edge queue as
 * edges come and prints each with the kernel's timestamp (CLOCK_MONOTONIC). While Node is
 * stalled the edges wait in the pipe; they are delayed, never merged, and the debouncer
 * measures them on the kernel's times (Debouncer.raw's `at`).
 *
 * - open: resolves the line through sysfs like the other ports (chip label and offset;
 *   a BCM pin on the Pi's pinctrl-* chip), reads the level once with `gpioget`, then starts
 *   `gpiomon --line-buffered --format '%e %s %n' [--active-low] <label> <offset>`;
 * - read(): the last level the kernel reported (gpiomon holds the line: sysfs cannot read
 *   it meanwhile);
 * - watch(): one listener call per printed edge, with `atMono` on performance.now()'s clock
 *   (both are CLOCK_MONOTONIC on Linux: Node's hrtime is, and performance.now() is hrtime
 *   minus the process's time origin);
 * - gpiomon exiting is a watch error naming the line and gpiomon's stderr; the driver's
 *   read failures then restart it through the supervisor;
 * - outputs are not this port's: open() rejects them (use the sysfs ports).
 * libgpiod 1.6 speaks uAPI v1: no kernel debounce, and a 16-event queue per line that
 * drops on overflow — gpiomon empties it as edges come, so that takes a stall of gpiomon
 * itself, not of Node.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { describeError } from '../../core/errors.js';
import { GpioSetupError } from './errors.js';
import { lineName, type GpioLine, type GpioLineOptions, type GpioPort, type Level, type LineRef } from './port.js';
import { DEFAULT_SYSFS_ROOT, resolveLine } from './sysfs.js';

const run = promisify(execFile);

export interface GpiomonPortOptions {
  /** sysfs root for resolving chips and offsets. */
  root?: string;
  /** Executables (tests put stand-ins here). Default: `gpiomon`, `gpioget` on PATH. */
  gpiomon?: string;
  gpioget?: string;
}

/** performance.now() of a CLOCK_MONOTONIC time in ns (what the kernel stamps edges with). */
export function monoFromKernelNs(ns: bigint): number {
  const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  return Number(ns) / 1e6 - offsetMs;
}

/** One gpiomon output line (`%e %s %n`): the level after the edge, and the kernel time in ns. */
export function parseGpiomonLine(text: string): { level: Level; ns: bigint } | undefined {
  const m = /^([01]) (\d+) (\d+)$/.exec(text.trim());
  if (!m) return undefined;
  return { level: m[1] === '1' ? 1 : 0, ns: BigInt(m[2] ?? '0') * 1_000_000_000n + BigInt(m[3] ?? '0') };
}

class GpiomonLine implements GpioLine {
  readonly preexisting = false;
  private readonly name: string;
  private readonly listeners = new Set<{ fn: (v: Level, at?: number) => void; onError?: ((e: Error) => void) | undefined }>();
  private closed = false;
  private buffered = '';
  private stderr = '';

  constructor(
    readonly pin: LineRef,
    private level: Level,
    private readonly child: ChildProcess,
    private readonly release: () => void,
  ) {
    this.name = lineName(pin);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onData(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-500);
    });
    child.on('exit', (code, signal) => {
      if (this.closed) return;
      this.closed = true;
      const why = `gpiomon exited (${signal ?? `code ${String(code)}`})${this.stderr.trim() ? `: ${this.stderr.trim()}` : ''}`;
      for (const l of this.listeners) l.onError?.(new Error(`${this.name}: ${why}`));
      this.release();
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const text = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const ev = parseGpiomonLine(text);
      if (!ev) continue;
      this.level = ev.level;
      const at = monoFromKernelNs(ev.ns);
      for (const l of [...this.listeners]) if (this.listeners.has(l)) l.fn(ev.level, at);
    }
    if (this.buffered.length > 4096) this.buffered = ''; // not gpiomon's output: drop it
  }

  async read(): Promise<Level> {
    if (this.closed) throw new Error(`${this.name}: gpiomon is not running; the level is unknown`);
    return this.level;
  }

  async write(): Promise<void> {
    throw new Error(`${this.name}: write to an input line`);
  }

  watch(listener: (value: Level, atMono?: number) => void, onError?: (err: Error) => void): () => void {
    const entry = { fn: listener, onError };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(t);
    this.release();
  }
}

export class GpiomonGpioPort implements GpioPort {
  private readonly open_ = new Set<number>();

  constructor(private readonly opts: GpiomonPortOptions = {}) {}

  async open(pin: LineRef, opts: GpioLineOptions): Promise<GpioLine> {
    const name = lineName(pin);
    if (opts.direction !== 'in') throw new GpioSetupError('io', `${name}: the gpiomon port reads inputs only; outputs use sysfs`);
    const { controller, kernel } = await resolveLine(this.opts.root ?? DEFAULT_SYSFS_ROOT, pin);
    if (this.open_.has(kernel)) throw new Error(`${name} (gpio${kernel}) is already open in this process`);
    const offset = String(kernel - controller.base);
    const chip = controller.label;
    const low = opts.activeLow ? ['--active-low'] : [];
    const gpioget = this.opts.gpioget ?? 'gpioget';
    let first: Level;
    try {
      const { stdout } = await run(gpioget, [...low, chip, offset], { timeout: 5000 });
      first = stdout.trim() === '1' ? 1 : 0;
    } catch (err) {
      throw new GpioSetupError('io', `${name}: \`${gpioget} ${chip} ${offset}\` failed: ${describeError(err)} — is Debian's gpiod package installed and /dev/gpiochip* readable by this user?`);
    }
    const edge = opts.edge ?? 'none';
    const which = edge === 'rising' ? ['--rising-edge'] : edge === 'falling' ? ['--falling-edge'] : [];
    const child = spawn(this.opts.gpiomon ?? 'gpiomon', ['--line-buffered', '--format=%e %s %n', ...low, ...which, chip, offset], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new GpioSetupError('io', `${name}: cannot start gpiomon: ${describeError(err)} — install Debian's gpiod package`)));
    });
    this.open_.add(kernel);
    return new GpiomonLine(pin, first, child, () => this.open_.delete(kernel));
  }
}

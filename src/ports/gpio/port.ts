/**
 * The GPIO port: how drivers and the probe talk to a general-purpose I/O line, whatever
 * library or kernel interface is underneath (docs/architecture.md#the-port-contracts). Implementations:
 * - `OnoffGpioPort` (onoff-port.ts): the real thing on a Raspberry Pi, sysfs through onoff;
 * - `SysfsFileGpioPort` (sysfs-file-port.ts): plain file I/O against any sysfs-shaped root,
 *   edges found by polling (the probe's hidden `--sysfs-root`, and tests);
 * - `GpiomonGpioPort` (gpiomon-port.ts): inputs through the character device by way of
 *   Debian's `gpiomon`, with the kernel's timestamp on every edge;
 * - `FakeGpioPort` (fake-port.ts): in memory, for driver tests.
 *
 * A line is named either by its BCM number (the numbers printed on Pi pinout diagrams, on
 * the Pi's `pinctrl-*` chip) or, on any board, by its chip (label, or /dev name as libgpiod
 * prints it) and offset. Translating either to the kernel's sysfs number (base + offset)
 * is the port's job, never config's.
 *
 * Values are *logical*: with `activeLow`, a line pulled to 0 V reads 1. Implementations
 * apply active-low in one place (the kernel's `active_low` attribute where there is one).
 */

/** A line: a BCM number on a Raspberry Pi, or a chip (label or `gpiochipN`) and offset. */
export type LineRef = number | { readonly chip: string; readonly line: number };

/** How messages name a line: `GPIO 17`, or `gpio-sim.0-node0 line 3`. */
export function lineName(ref: LineRef): string {
  return typeof ref === 'number' ? `GPIO ${ref}` : `${ref.chip} line ${ref.line}`;
}

/** A logic level. */
export type Level = 0 | 1;

/** Which transitions a line reports. `none`: no watching. */
export type Edge = 'none' | 'rising' | 'falling' | 'both';

export interface GpioLineOptions {
  direction: 'in' | 'out';
  /** Inputs only: transitions that wake `watch()` listeners. Default `none`. */
  edge?: Edge;
  /** Invert the logic level (a switch to ground with a pull-up: closed reads 1). */
  activeLow?: boolean;
  /** Outputs only: the level driven from the moment the line becomes an output (no glitch). */
  initial?: Level;
}

/**
 * One opened line. Obtained from {@link GpioPort.open}; owned by whoever opened it.
 *
 * - `read()` resolves with the current logical level; rejects with an error naming the
 *   pin when the kernel refuses (line unexported under us, EIO).
 * - `write(v)` drives an output; rejects on an input line or a kernel error.
 * - `watch(listener, onError)` calls `listener(level)` after each transition of the
 *   configured edge, with the level read right after the interrupt. Events are delivered
 *   asynchronously and never re-entrantly; bounces come through as they are (debouncing
 *   is the caller's, so it runs on the injected clock). Ports that know when the kernel saw
 *   the edge (gpiomon-port.ts) pass it as `atMono`, on `performance.now()`'s clock; sysfs
 *   ports cannot, and pass nothing. `onError` receives watch faults;
 *   the line stays open. Returns an unsubscribe function.
 * - `close()` stops watching and releases the line. It unexports the line only if this
 *   open exported it: a line that was already exported (by another program, e.g. a running
 *   gateway while a technician runs the probe) stays exported. Idempotent; never rejects,
 *   because shutdown must carry on (a failed unexport is freed by the kernel at reboot).
 * - `preexisting` says whether the line was already exported when it was opened.
 */
export interface GpioLine {
  /** The line as it was opened: a BCM number, or chip and offset. */
  readonly pin: LineRef;
  readonly preexisting: boolean;
  read(): Promise<Level>;
  write(value: Level): Promise<void>;
  watch(listener: (value: Level, atMono?: number) => void, onError?: (err: Error) => void): () => void;
  close(): Promise<void>;
}

/**
 * Opens lines. `open()` checks that GPIO exists and is accessible *before* touching the
 * line and rejects with a {@link GpioSetupError} (errors.ts) whose message tells a
 * technician what to do (join group gpio, enable sysfs GPIO, pick a pin that exists).
 * A pin already opened through the same port rejects: two owners of one line is a bug.
 */
export interface GpioPort {
  open(pin: LineRef, opts: GpioLineOptions): Promise<GpioLine>;
}

export function toLevel(v: unknown): Level | undefined {
  if (v === 1 || v === true || v === '1' || v === 'on' || v === 'high' || v === 'true') return 1;
  if (v === 0 || v === false || v === '0' || v === 'off' || v === 'low' || v === 'false') return 0;
  return undefined;
}

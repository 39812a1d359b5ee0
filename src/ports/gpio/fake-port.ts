/**
 * An in-memory GPIO port for tests and demos (docs/architecture.md#fakes-and-contract-suites: the fake is a product). The
 * test plays the outside world with `drive(pin, level)` (a switch closing, a bounce);
 * edge filtering follows the line's configured `edge` like the kernel does; writes are
 * recorded. Faults can be injected: `failOpen`, `failReads`.
 */
import { lineName, type GpioLine, type GpioLineOptions, type GpioPort, type Level, type LineRef } from './port.js';

/** The fake's key of a line: `17`, or `chip:offset`. */
export function fakeKey(ref: LineRef): string {
  return typeof ref === 'number' ? String(ref) : `${ref.chip}:${ref.line}`;
}

export class FakeLine implements GpioLine {
  /** Logical level as the line reports it. */
  level: Level;
  /** Every level written, in order (outputs). */
  readonly writes: Level[] = [];
  closed = false;
  readonly preexisting = false;
  /** When set, read() and write() reject with this. */
  failWith: Error | undefined;
  private readonly listeners = new Set<(v: Level) => void>();

  private readonly name: string;

  constructor(
    readonly pin: LineRef,
    readonly opts: GpioLineOptions,
    level: Level,
  ) {
    this.name = lineName(pin);
    this.level = opts.direction === 'out' ? (opts.initial ?? 0) : level;
  }

  async read(): Promise<Level> {
    if (this.closed) throw new Error(`${this.name}: line is closed`);
    if (this.failWith) throw this.failWith;
    return this.level;
  }

  async write(value: Level): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: line is closed`);
    if (this.opts.direction !== 'out') throw new Error(`${this.name}: write to an input line`);
    if (this.failWith) throw this.failWith;
    this.writes.push(value);
    this.level = value;
  }

  watch(listener: (value: Level) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  /**
   * The outside world moves the line. Listeners hear of it on a microtask, as the port
   * contract says (asynchronously, never re-entrantly), one wake per edge, in order. The
   * returned promise settles once they have: `await line.drive(v)` before moving the
   * fake clock on.
   */
  drive(level: Level): Promise<void> {
    if (level === this.level) return Promise.resolve();
    this.level = level;
    const edge = this.opts.edge ?? 'none';
    const fire = edge === 'both' || (edge === 'rising' && level === 1) || (edge === 'falling' && level === 0);
    if (!fire || this.closed) return Promise.resolve();
    const listeners = [...this.listeners];
    return new Promise((resolve) =>
      queueMicrotask(() => {
        for (const l of listeners) if (this.listeners.has(l)) l(level);
        resolve();
      }),
    );
  }

  /**
   * Several edges while the process was not listening (a stalled event loop): sysfs flags
   * "changed" once however many edges happened, and the value is read afterwards. So the
   * listeners get one wake, with the level the line ends at — possibly the level it began
   * at, when a whole pulse came and went. Settles once they have.
   */
  coalesce(levels: readonly Level[]): Promise<void> {
    const edge = this.opts.edge ?? 'none';
    let prev = this.level;
    let fire = false;
    for (const level of levels) {
      if (level !== prev) fire ||= edge === 'both' || (edge === 'rising' && level === 1) || (edge === 'falling' && level === 0);
      prev = level;
    }
    this.level = prev;
    if (!fire || this.closed) return Promise.resolve();
    const listeners = [...this.listeners];
    const level = this.level;
    return new Promise((resolve) =>
      queueMicrotask(() => {
        for (const l of listeners) if (this.listeners.has(l)) l(level);
        resolve();
      }),
    );
  }

  get watching(): number {
    return this.listeners.size;
  }
}

export class FakeGpioPort implements GpioPort {
  /** Opened lines, by {@link fakeKey}. */
  readonly lines = new Map<string, FakeLine>();
  /** Levels inputs start at, by pin (default 0). */
  readonly initialLevels = new Map<number | string, Level>();
  /** When set, open() rejects with this. */
  failOpen: Error | undefined;

  async open(pin: LineRef, opts: GpioLineOptions): Promise<GpioLine> {
    if (this.failOpen) throw this.failOpen;
    const key = fakeKey(pin);
    const existing = this.lines.get(key);
    if (existing && !existing.closed) throw new Error(`${lineName(pin)} is already open in this process`);
    const initial = this.initialLevels.get(typeof pin === 'number' ? pin : key);
    const line = new FakeLine(pin, opts, initial ?? existing?.level ?? 0);
    this.lines.set(key, line);
    return line;
  }

  line(pin: LineRef): FakeLine {
    const line = this.lines.get(fakeKey(pin));
    if (!line) throw new Error(`${lineName(pin)} was never opened`);
    return line;
  }
}

/**
 * A serial port that stays connected: it opens the port, notices when it goes away and
 * reopens it with exponential backoff and jitter, for as long as it runs. Drivers get
 * bytes and state changes; they never handle a reopen themselves.
 *
 * How a lost port is noticed (docs/field-notes.md#unplug-shows-on-write, serialport #2351 and #458: an unplugged USB
 * adapter often raises nothing until a write fails, and sensors are only read from):
 * - the connection closes with an error (a pty or adapter that reports the hangup);
 * - a presence check every `presenceCheckMs`: the device node or by-id link is gone;
 * - silence: no byte for `silenceTimeoutMs` on a sensor that streams continuously.
 * Each closes the connection (idempotently) and schedules a reopen. Proved by
 * test/unit/serial/driver.test.ts (silent unplug, silence, double close) and, on real
 * ptys, test/interop/serial-driver.test.ts (socat killed and restarted).
 *
 * Contract:
 * - `start()` makes the first open attempt and resolves whatever its outcome: a port
 *   missing at boot is the same situation as one unplugged later (reported through
 *   `onDown`, retried with backoff).
 * - `onOpen` runs after every successful open; `onDown(err, retryInMs, wasOpen)` after every
 *   failed open and every loss. Backoff resets when data arrives, not on open, so a
 *   port that opens but stays silent is retried ever more slowly.
 * - Callbacks must not throw; if one does, the error is reported through `onDown` of the
 *   next cycle rather than escaping a timer.
 * - `stop()` cancels timers, closes the port and resolves once it is released; after it
 *   no callback runs. Safe to call more than once.
 * Time comes from the injected Clock (docs/architecture.md#time-is-injected), so tests run hours in milliseconds.
 */
import { Backoff } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import { describeError } from '../../core/errors.js';
import type { SerialConnection, SerialPorts, SerialSettings } from './port.js';

export interface ReconnectingSerialOptions {
  settings: SerialSettings;
  ports: SerialPorts;
  clock: Clock;
  /** Reopen delays, ms: first and longest. */
  backoff?: { min: number; max: number };
  /** Reopen when no byte arrived for this long; 0 disables (devices that speak only when asked). */
  silenceTimeoutMs?: number;
  /** How often to check that the device node still exists; 0 disables. */
  presenceCheckMs?: number;
  onData(chunk: Buffer): void;
  onOpen?(): void;
  /** `wasOpen`: a working connection was lost (true) or an open attempt failed (false). */
  onDown?(err: Error, retryInMs: number, wasOpen: boolean): void;
  onError?(err: Error): void;
}

export class ReconnectingSerial {
  private conn: SerialConnection | undefined;
  private readonly backoff: Backoff;
  private stopped = false;
  private cancelRetry: (() => void) | undefined;
  private cancelWatch: (() => void) | undefined;
  private lastDataMono = 0;
  private checking = false;
  private opens = 0;

  constructor(private readonly opts: ReconnectingSerialOptions) {
    const b = opts.backoff ?? { min: 1000, max: 60_000 };
    this.backoff = new Backoff({ base: b.min, max: b.max, jitter: 0.5 }, () => opts.clock.random());
  }

  get path(): string {
    return this.opts.settings.path;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.conn?.isOpen ?? false;
  }

  /** Successful opens so far (the first one included). */
  get openCount(): number {
    return this.opens;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    this.stopWatch();
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }

  /** Write to the open port; rejects when it is not open right now. */
  write(data: Uint8Array): Promise<void> {
    if (!this.conn) return Promise.reject(new Error(`serial port ${this.path} is not open (reconnecting)`));
    return this.conn.write(data);
  }

  private async attempt(): Promise<void> {
    this.cancelRetry = undefined;
    if (this.stopped) return;
    let conn: SerialConnection;
    try {
      conn = await this.opts.ports.open(this.opts.settings);
    } catch (err) {
      this.scheduleRetry(err, false);
      return;
    }
    if (this.stopped) {
      await conn.close();
      return;
    }
    this.conn = conn;
    this.opens++;
    this.lastDataMono = this.opts.clock.mono();
    conn.onData((chunk) => {
      if (this.conn !== conn) return;
      this.lastDataMono = this.opts.clock.mono();
      this.backoff.reset();
      this.safely(() => this.opts.onData(chunk));
    });
    conn.onError((err) => this.safely(() => this.opts.onError?.(err)));
    conn.onClose((err) => {
      if (this.conn !== conn || this.stopped) return;
      this.lost(new Error(`serial port ${this.path} lost: ${err ? describeError(err) : 'closed'}`));
    });
    this.startWatch(conn);
    this.safely(() => this.opts.onOpen?.());
  }

  /** The connection is gone (or judged gone): release it and schedule a reopen. */
  private lost(err: Error): void {
    const conn = this.conn;
    this.conn = undefined;
    this.stopWatch();
    void conn?.close();
    this.scheduleRetry(err, true);
  }

  private scheduleRetry(err: unknown, wasOpen: boolean): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    const e = err instanceof Error ? err : new Error(describeError(err));
    this.safely(() => this.opts.onDown?.(e, delay, wasOpen));
    this.cancelRetry = this.opts.clock.setTimer(delay, () => void this.attempt());
  }

  private startWatch(conn: SerialConnection): void {
    const silence = this.opts.silenceTimeoutMs ?? 0;
    const presence = this.opts.presenceCheckMs ?? 2000;
    const period = Math.min(presence || Infinity, silence ? Math.max(100, silence / 4) : Infinity);
    if (!Number.isFinite(period)) return;
    const tick = (): void => {
      this.cancelWatch = undefined;
      if (this.stopped || this.conn !== conn) return;
      const quiet = this.opts.clock.mono() - this.lastDataMono;
      if (silence > 0 && quiet >= silence) {
        this.lost(new Error(`no data from serial port ${this.path} for ${Math.round(quiet / 1000)}s (check wiring, baud rate and that the sensor is powered)`));
        return;
      }
      if (presence > 0 && !this.checking) {
        this.checking = true;
        this.opts.ports.exists(this.path).then(
          (there) => {
            this.checking = false;
            if (!there && this.conn === conn && !this.stopped) this.lost(new Error(`serial port ${this.path} vanished (unplugged?)`));
          },
          () => {
            this.checking = false;
          },
        );
      }
      this.cancelWatch = this.opts.clock.setTimer(period, tick);
    };
    this.cancelWatch = this.opts.clock.setTimer(period, tick);
  }

  private stopWatch(): void {
    this.cancelWatch?.();
    this.cancelWatch = undefined;
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A throwing callback is a bug in the caller; never let it escape a timer or event.
      this.opts.onError?.(err instanceof Error ? err : new Error(describeError(err)));
    }
  }
}

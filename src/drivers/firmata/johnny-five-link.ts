/**
 * The Firmata link (link.ts) on johnny-five 2 with an injected Firmata IO object: in
 * production firmata-io on a serialport-13 port (serial-io.ts), in tests mock-firmata.
 *
 * johnny-five hazards handled here (docs/field-notes.md#johnny-five-repl-exit and the notes after it):
 * - With its REPL on and stdin closed (systemd), the process exits ~20 ms after "ready";
 *   its SIGINT handler exits through process.reallyExit(), skipping our shutdown flush
 *   (rwaldron/johnny-five #642, #1393). Boards are always built with
 *   `{repl: false, sigint: false, debug: false}`, which vendor.d.ts enforces at compile
 *   time and test/unit/firmata/stdin-closed.test.ts proves in a child process.
 * - Every Board stays in johnny-five's module-level registry for the life of the process
 *   (no public removal); a restart after an unplug therefore leaks one small object.
 * - An unhandled "error" event on the Board or the IO object would throw: both always
 *   have a listener, also after close().
 * johnny-five is loaded lazily so importing the driver costs nothing until a board is used.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { describeError } from '../../core/errors.js';
import type { FirmataLink, FirmataLinkOptions, OpenFirmataLink } from './link.js';

const require = createRequire(import.meta.url);

/** What we use of a Firmata IO object (firmata-io's Firmata, mock-firmata's MockFirmata). */
export interface FirmataIo extends EventEmitter {
  MODES: Record<string, number>;
  pins: { supportedModes: number[] }[];
  analogPins: number[];
  firmware?: { name?: string; version?: { major: number; minor: number } };
  pinMode(pin: number, mode: number): void;
  analogRead(channel: number, cb: (value: number) => void): void;
  digitalRead(pin: number, cb: (value: number) => void): void;
  reportAnalogPin?(channel: number, on: 0 | 1): void;
  reportDigitalPin?(pin: number, on: 0 | 1): void;
  reportVersion?(cb: () => void): void;
  reportVersionTimeoutId?: ReturnType<typeof setTimeout>;
}

/** An IO object plus the way to release what it opened (the serial port). */
export interface IoHandle {
  io: FirmataIo;
  close(): Promise<void>;
}

/** Opens the port and builds the IO on it; rejects (nothing left open) when the port cannot be opened. */
export type MakeIo = (options: FirmataLinkOptions) => IoHandle | Promise<IoHandle>;

/** Firmata's pull-up input mode (Firmata 2.5; not in mock-firmata's constants). */
const PULLUP = 0x0b;
const noop = (): void => undefined;

export function johnnyFiveLink(makeIo: MakeIo): OpenFirmataLink {
  return async (opts) => {
    const five = require('johnny-five') as typeof import('johnny-five');
    const handle = await makeIo(opts);
    const { io } = handle;
    // From here on an "error" must never go unheard (EventEmitter throws otherwise).
    io.on('error', noop);
    let board: import('johnny-five').Board | undefined;
    const release = async (): Promise<void> => {
      if (board?.timer) clearTimeout(board.timer);
      if (io.reportVersionTimeoutId) clearTimeout(io.reportVersionTimeoutId);
      await handle.close().catch(noop);
    };
    try {
      board = new five.Board({ io, repl: false, sigint: false, debug: false, id: opts.port });
      board.on('error', noop);
      await handshake(board, io, opts);
    } catch (err) {
      await release();
      throw err;
    }
    return new JohnnyFiveLink(five, board, io, opts, release);
  };
}

function handshake(board: import('johnny-five').Board, io: FirmataIo, opts: FirmataLinkOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      cancel();
      board.removeListener('ready', onReady);
      io.removeListener('error', onError);
      io.removeListener('close', onClose);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: unknown): void => fail(handshakeError(opts.port, err));
    const onClose = (): void => fail(new Error(`firmata board on ${opts.port}: the port closed during the handshake`));
    const onAbort = (): void => fail(new Error(`firmata board on ${opts.port}: start aborted`));
    const cancel = opts.clock.setTimer(opts.timeoutMs, () =>
      fail(
        new Error(
          `firmata board on ${opts.port}: no Firmata handshake within ${opts.timeoutMs}ms — is StandardFirmata ` +
            `flashed (Arduino IDE: File › Examples › Firmata › StandardFirmata) and the baud rate ${opts.baud}?`,
        ),
      ),
    );
    board.once('ready', onReady);
    io.on('error', onError);
    io.once('close', onClose);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
  });
}

/** An I/O fault during the handshake (open failures reject earlier, from the port layer). */
function handshakeError(port: string, err: unknown): Error {
  return new Error(`firmata board on ${port}: the port failed during the handshake: ${describeError(err)} — unplugged or reset?`, { cause: err });
}

class JohnnyFiveLink implements FirmataLink {
  readonly description: string;
  private heard: number;
  private closed = false;
  private pingOutstanding = false;
  private lostCb: ((err: Error) => void) | undefined;
  private lost = false;
  private lostErr: Error | undefined;
  private readonly events: string[] = [];
  private readonly thermometers: import('johnny-five').Thermometer[] = [];
  private readonly analogChannels: number[] = [];

  constructor(
    private readonly five: typeof import('johnny-five'),
    private readonly board: import('johnny-five').Board,
    private readonly io: FirmataIo,
    private readonly opts: FirmataLinkOptions,
    private readonly release: () => Promise<void>,
  ) {
    this.heard = opts.clock.mono();
    const fw = io.firmware;
    const version = fw?.version ? ` ${fw.version.major}.${fw.version.minor}` : '';
    this.description = `${fw?.name ?? 'Firmata'}${version} (${io.analogPins.length} analog, ${io.pins.length} pins)`;
    this.listen('reportversion', () => {
      this.pingOutstanding = false;
      this.mark();
    });
    // We never ask for the firmware after the handshake: hearing it again means the board
    // rebooted (reset button, brown-out, watchdog) and forgot its pin modes and reporting.
    this.listen('queryfirmware', () => this.lostLocal(undefined, 'the board reset (it announced its firmware again)', ''));
    this.listen('close', (e) => this.lostLocal(e, 'the port closed'));
    this.listen('disconnect', (e) => this.lostLocal(e, 'the board disconnected'));
    this.listen('error', (e) => this.lostLocal(e, 'port error'));
  }

  private listen(event: string, fn: (arg: unknown) => void): void {
    this.io.on(event, fn);
    this.events.push(event);
  }

  private mark(): void {
    this.heard = this.opts.clock.mono();
  }

  private checkAnalog(channel: number): void {
    if (!(channel >= 0 && channel < this.io.analogPins.length)) {
      const n = this.io.analogPins.length;
      throw new Error(`firmata board on ${this.opts.port}: A${channel} does not exist (this board has ${n ? `A0–A${n - 1}` : 'no analog pins'})`);
    }
  }

  analog(channel: number, cb: (raw: number) => void): void {
    this.checkAnalog(channel);
    this.io.pinMode(channel, this.io.MODES.ANALOG ?? 2);
    this.io.analogRead(channel, (v) => {
      this.mark();
      cb(v);
    });
    this.events.push(`analog-read-${channel}`);
    this.analogChannels.push(channel);
  }

  digital(pin: number, pullUp: boolean, cb: (value: 0 | 1) => void): void {
    const info = this.io.pins[pin];
    if (!info || !info.supportedModes.includes(this.io.MODES.INPUT ?? 0)) {
      throw new Error(`firmata board on ${this.opts.port}: digital pin ${pin} does not exist or cannot be an input`);
    }
    this.io.pinMode(pin, pullUp ? (this.io.MODES.PULLUP ?? PULLUP) : (this.io.MODES.INPUT ?? 0));
    this.io.digitalRead(pin, (v) => {
      this.mark();
      cb(v ? 1 : 0);
    });
    this.events.push(`digital-read-${pin}`);
  }

  thermometer(channel: number, controller: string, cb: (celsius: number) => void): void {
    this.checkAnalog(channel);
    // enabled: false — no johnny-five interval: its "data" events repeat the last raw value
    // on a timer, which would make a dead board look alive. We convert on each real report
    // instead; the Thermometer's own analog-read listener runs first (registered first).
    const t = new this.five.Thermometer({
      controller,
      pin: `A${channel}`,
      board: this.board,
      aref: this.opts.aref,
      enabled: false,
    });
    this.listen(`analog-read-${channel}`, () => {
      this.mark();
      cb(t.celsius);
    });
    this.analogChannels.push(channel);
    this.thermometers.push(t);
  }

  lastHeard(): number {
    return this.heard;
  }

  ping(): void {
    if (this.closed || this.lost || this.pingOutstanding || !this.io.reportVersion) return;
    this.pingOutstanding = true;
    try {
      this.io.reportVersion(noop);
    } catch (err) {
      this.lostLocal(err, 'write failed');
    }
  }

  onLost(cb: (err: Error) => void): void {
    this.lostCb = cb;
    const early = this.lostErr;
    if (early) queueMicrotask(() => cb(early));
  }

  private lostLocal(e: unknown, what: string, hint = ' — unplugged or reset?'): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    const detail = e instanceof Error ? `: ${describeError(e)}` : '';
    this.lostErr = new Error(`firmata board on ${this.opts.port}: ${what}${detail}${hint}`, { cause: e });
    this.lostCb?.(this.lostErr);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.thermometers) t.disable();
    if (!this.lost) {
      try {
        // stop the board streaming, so a later owner of the port starts from silence
        for (const ch of new Set(this.analogChannels)) this.io.reportAnalogPin?.(ch, 0);
      } catch {
        // the port may already be gone; closing carries on
      }
    }
    for (const e of new Set(this.events)) this.io.removeAllListeners(e);
    this.io.on('error', noop);
    this.board.removeAllListeners();
    this.board.on('error', noop);
    await this.release();
  }
}

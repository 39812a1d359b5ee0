/**
 * SerialPorts over serialport 13. The constructor is injectable so unit tests run the
 * same adapter over `SerialPortMock` (docs/field-notes.md#serial-test-doubles: import it
 * from 'serialport'; importing @serialport/binding-mock directly fails type resolution).
 *
 * Library behaviour handled here:
 * - `close` can fire twice after an unplug (docs/field-notes.md#unplug-shows-on-write): the
 *   connection reports the first one only (proved by test/unit/serial/port.test.ts
 *   "reports an unplug once" and driver.test.ts "serialport closing twice"). On a real
 *   tty the first close comes without its cause (EIO arrives as 'error' just before), so
 *   the connection reports that error with it (test/interop/serial-port-contract.test.ts).
 * - A failed `close()` after an unplug ("Port is not open") still counts as closed.
 * - A stream that is not open queues writes until it opens; our `write` refuses instead,
 *   so nothing piles up in memory while a port is unplugged.
 * - An 'error' event without a listener would crash the process: we always listen.
 */
import { stat } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { serialport } from './load.js';
import { describeError } from '../../core/errors.js';
import { explainOpenError } from './open-errors.js';
import { listPorts, type RawPortInfo } from './list.js';
import type { SerialConnection, SerialPortList, SerialPorts, SerialSettings } from './port.js';

/** The part of serialport's stream we use (SerialPort and SerialPortMock both fit). */
export interface PortStream extends EventEmitter {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
}

export type PortConstructor = new (options: {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
  autoOpen: false;
}) => PortStream;

export interface NodeSerialPortsOptions {
  Port?: PortConstructor;
  list?: () => Promise<RawPortInfo[]>;
  exists?: (path: string) => Promise<boolean>;
  /** Root of the /dev scan used when listing fails (tests point it at a temp dir). */
  devDir?: string;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path); // follows the by-id symlink: a dangling link means unplugged
    return true;
  } catch {
    return false;
  }
}

class NodeSerialConnection implements SerialConnection {
  private closed = false;
  private closing: Promise<void> | undefined;
  private lastError: Error | undefined;
  private readonly events = new EventEmitter();

  constructor(
    readonly path: string,
    private readonly port: PortStream,
  ) {
    port.on('data', (chunk: Buffer) => this.events.emit('data', chunk));
    port.on('error', (err: Error) => {
      this.lastError = err;
      this.events.emit('error', err);
    });
    // On a real tty an unplug shows as 'error' (EIO), then a bare 'close', then a 'close'
    // with the error: the first close carries the cause whichever came with it.
    port.on('close', (err?: Error | null) => {
      if (this.closing) return this.ended(undefined);
      this.ended(err ?? this.lastError ?? new Error(`serial port ${path} closed unexpectedly (unplugged?)`));
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.port.isOpen;
  }

  private ended(err: Error | undefined): void {
    if (this.closed) return; // serialport's second 'close' after an unplug
    this.closed = true;
    this.events.emit('close', err);
  }

  onData(fn: (chunk: Buffer) => void): void {
    this.events.on('data', fn);
  }
  onClose(fn: (err?: Error) => void): void {
    this.events.on('close', fn);
  }
  onError(fn: (err: Error) => void): void {
    this.events.on('error', fn);
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new Error(`serial port ${this.path} is not open`));
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(data), (err) =>
        err ? reject(new Error(`write to serial port ${this.path} failed: ${describeError(err)}`)) : resolve(),
      );
    });
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      if (!this.port.isOpen) {
        this.ended(undefined);
        return resolve();
      }
      // A close that fails ("Port is not open" after an unplug) still leaves it closed.
      this.port.close(() => {
        this.ended(undefined);
        resolve();
      });
    });
    return this.closing;
  }
}

export class NodeSerialPorts implements SerialPorts {
  private readonly Port: PortConstructor;

  constructor(private readonly opts: NodeSerialPortsOptions = {}) {
    this.Port = opts.Port ?? (serialport().SerialPort as unknown as PortConstructor);
  }

  open(s: SerialSettings): Promise<SerialConnection> {
    return new Promise((resolve, reject) => {
      let port: PortStream;
      try {
        port = new this.Port({
          path: s.path,
          baudRate: s.baudRate,
          dataBits: s.dataBits,
          parity: s.parity,
          stopBits: s.stopBits,
          autoOpen: false,
        });
      } catch (err) {
        return reject(explainOpenError(s.path, err));
      }
      const conn = new NodeSerialConnection(s.path, port);
      port.open((err) => (err ? reject(explainOpenError(s.path, err)) : resolve(conn)));
    });
  }

  exists(path: string): Promise<boolean> {
    return (this.opts.exists ?? fileExists)(path);
  }

  list(): Promise<SerialPortList> {
    return listPorts(this.opts.list ?? (() => serialport().SerialPort.list()), this.opts.devDir ?? '/dev');
  }
}

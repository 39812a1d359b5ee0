/**
 * ByteLink over a serial port (serialport 13). docs/field-notes.md#unplug-shows-on-write: an unplug shows nothing
 * until a write fails with EIO and then `close` fires twice, so close is idempotent
 * and `closed` is reported once. serialport has no RS-485 direction API
 * (serialport #903): we rely on adapters with automatic direction control.
 *
 * The port class is injectable so unit tests can use serialport's SerialPortMock.
 */
import { serialport } from '../../ports/serial/load.js';
import type { ByteLink, LinkEvents } from './link.js';

export interface SerialSettings {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/** The part of serialport's SerialPort we use (SerialPortMock has it too). */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
  close(cb?: (err: Error | null) => void): void;
  on(event: 'data', fn: (d: Buffer) => void): this;
  on(event: 'close' | 'error', fn: (err?: Error) => void): this;
  removeAllListeners(): this;
}

export type SerialFactory = (s: SerialSettings & { autoOpen: false }) => SerialPortLike;

const realPort: SerialFactory = (s) => new (serialport().SerialPort)(s) as unknown as SerialPortLike;

export class SerialLink implements ByteLink {
  private port: SerialPortLike | undefined;

  constructor(
    private readonly settings: SerialSettings,
    private readonly factory: SerialFactory = realPort,
  ) {}

  get name(): string {
    return this.settings.path;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  open(events: LinkEvents): Promise<void> {
    const port = this.factory({ ...this.settings, autoOpen: false });
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) return reject(explain(err, this.settings.path));
        this.port = port;
        let reported = false;
        const died = (e?: Error): void => {
          if (reported || this.port !== port) return;
          reported = true;
          this.port = undefined;
          port.removeAllListeners();
          if (port.isOpen) port.close(() => undefined);
          events.closed(e ?? new Error(`${this.settings.path} was closed (unplugged?)`));
        };
        port.on('data', (d) => events.data(d));
        port.on('error', (e) => died(e));
        port.on('close', (e) => died(e));
        resolve();
      });
    });
  }

  write(data: Buffer): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new Error(`${this.settings.path} is not open`));
    return new Promise((resolve, reject) => port.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port) return;
    port.removeAllListeners();
    port.on('error', () => undefined); // a late EIO after close must not become an unhandled 'error'
    if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

function explain(err: Error, path: string): Error {
  const m = err.message;
  const hint = /ENOENT|No such file|does not exist/.test(m)
    ? `${path} does not exist — is the USB/RS-485 adapter plugged in? (ls /dev/serial/by-id/)`
    : /EACCES|Permission denied/.test(m)
      ? `no permission to open ${path} — add the citygate user to the dialout group`
      : /EBUSY|Resource busy|Cannot lock/.test(m)
        ? `${path} is in use by another program (another gateway instance? a serial console?)`
        : `cannot open ${path}: ${m}`;
  return new Error(hint);
}

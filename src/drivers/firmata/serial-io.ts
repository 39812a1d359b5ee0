/**
 * The production Firmata IO: firmata-io's protocol engine on a serialport-13 port.
 * johnny-five would otherwise open the port itself with its bundled serialport 8, which
 * compiles from source and is a second serial stack to keep alive (docs/field-notes.md#johnny-five-pulls-serialport-8). firmata-io
 * accepts any transport object; it is loaded without its `firmata` wrapper for the same
 * reason (that wrapper requires a serialport of its own).
 *
 * serialport 13 reports an unplug as "close" with `disconnected: true` (often only once a
 * write fails: the link's ping() provides the writes); firmata-io re-emits it on the IO
 * object, where johnny-five-link.ts turns it into onLost.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { FirmataIo, IoHandle, MakeIo } from './johnny-five-link.js';
import type { FirmataLinkOptions } from './link.js';

const require = createRequire(import.meta.url);

/** A serialport-13-shaped port (SerialPort, or SerialPortMock in tests). */
export interface SerialLike extends EventEmitter {
  readonly isOpen: boolean;
  close(cb?: (err: Error | null) => void): void;
}

export type SerialFactory = (opts: { path: string; baudRate: number }) => SerialLike;

const realSerial: SerialFactory = (opts) => {
  const { SerialPort } = require('serialport') as typeof import('serialport');
  return new SerialPort({ ...opts, autoOpen: true });
};

export function serialFirmataIo(openSerial: SerialFactory = realSerial): MakeIo {
  return (opts: FirmataLinkOptions): IoHandle => {
    const { Firmata } = require('firmata-io') as { Firmata: new (t: EventEmitter, o: object) => FirmataIo };
    const port = openSerial({ path: opts.port, baudRate: opts.baud });
    const io = new Firmata(port, {
      samplingInterval: opts.samplingIntervalMs,
      // ask for the version ourselves well before our own handshake timeout
      reportVersionTimeout: Math.max(500, Math.min(5000, Math.floor(opts.timeoutMs / 3))),
    });
    return {
      io,
      close: () =>
        new Promise<void>((resolve) => {
          if (!port.isOpen) return resolve();
          port.close(() => resolve());
        }),
    };
  };
}

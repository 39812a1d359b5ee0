/**
 * The production Firmata IO: firmata-io's protocol engine on a port opened through the
 * serial port layer (src/ports/serial), like every other serial driver: the same
 * settings type, open errors, unplug semantics and port listing. johnny-five would
 * otherwise open the port itself with its bundled serialport 8, which compiles from
 * source and is a second serial stack to keep alive
 * (docs/field-notes.md#johnny-five-pulls-serialport-8). firmata-io accepts any transport
 * object; it is loaded without its `firmata` wrapper for the same reason (that wrapper
 * requires a serialport of its own).
 *
 * A lost connection (unplug; often noticed only once a write fails, which the link's
 * ping() provides) reaches firmata-io as a "close" with `disconnected: true`, which it
 * re-emits as "disconnect"; johnny-five-link.ts turns that into onLost. Reopening is a
 * driver restart by the supervisor: a johnny-five Board cannot be reused.
 */
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import { NodeSerialPorts } from '../../ports/serial/node-serialport.js';
import type { SerialConnection, SerialPorts } from '../../ports/serial/port.js';
import type { FirmataIo, IoHandle, MakeIo } from './johnny-five-link.js';

const require = createRequire(import.meta.url);

/**
 * A SerialConnection dressed as the stream firmata-io expects: "data", "close",
 * "error" and "open" events, and `write(buffer, callback)`.
 */
class ConnectionTransport extends EventEmitter {
  constructor(private readonly conn: SerialConnection) {
    super();
    conn.onData((chunk) => this.emit('data', chunk));
    conn.onError((err) => this.emit('error', err));
    conn.onClose((err) => this.emit('close', err ? { disconnected: true, disconnect: true, error: err } : undefined));
  }

  get isOpen(): boolean {
    return this.conn.isOpen;
  }

  write(data: Buffer, cb?: (err?: Error) => void): boolean {
    this.conn.write(data).then(
      () => cb?.(),
      (err: Error) => {
        cb?.(err);
        // firmata-io ignores write callbacks: a failed write must still be heard.
        if (this.listenerCount('error') > 0) this.emit('error', err);
      },
    );
    return true;
  }
}

export function serialFirmataIo(ports: SerialPorts = new NodeSerialPorts()): MakeIo {
  return async (opts): Promise<IoHandle> => {
    const { Firmata } = require('firmata-io') as { Firmata: new (t: EventEmitter, o: object) => FirmataIo };
    // StandardFirmata talks 8N1 at the sketch's baud rate.
    const conn = await ports.open({ path: opts.port, baudRate: opts.baud, dataBits: 8, parity: 'none', stopBits: 1 });
    const transport = new ConnectionTransport(conn);
    const io = new Firmata(transport, {
      samplingInterval: opts.samplingIntervalMs,
      // ask for the version ourselves well before our own handshake timeout
      reportVersionTimeout: Math.max(500, Math.min(5000, Math.floor(opts.timeoutMs / 3))),
    });
    // The port is open already; firmata-io (and johnny-five, through its "connect") learn
    // it from "open", once the Board built on this IO is listening.
    setImmediate(() => {
      if (conn.isOpen) transport.emit('open');
    });
    return { io, close: () => conn.close() };
  };
}

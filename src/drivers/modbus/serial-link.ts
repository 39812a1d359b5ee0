/**
 * ByteLink over the serial port layer (src/ports/serial): Modbus RTU opens its port the
 * same way every serial driver does, with the same settings type, open errors and
 * unplug semantics (docs/field-notes.md#unplug-shows-on-write: the connection reports a
 * loss once, close is idempotent). serialport has no RS-485 direction API
 * (docs/field-notes.md#no-rs-485-api): we rely on adapters with automatic direction
 * control.
 *
 * Reopening belongs to the bus (bus.ts): it reopens on demand, no sooner than its
 * backoff allows, and fails requests fast meanwhile. A Modbus master writes on every
 * poll, so an unplug shows at the next request without a presence check.
 */
import { NodeSerialPorts } from '../../ports/serial/node-serialport.js';
import type { SerialConnection, SerialPorts, SerialSettings } from '../../ports/serial/port.js';
import type { ByteLink, LinkEvents } from './link.js';

export class SerialLink implements ByteLink {
  private conn: SerialConnection | undefined;

  constructor(
    private readonly settings: SerialSettings,
    private readonly ports: SerialPorts = new NodeSerialPorts(),
  ) {}

  get name(): string {
    return this.settings.path;
  }

  get isOpen(): boolean {
    return this.conn?.isOpen ?? false;
  }

  async open(events: LinkEvents): Promise<void> {
    const conn = await this.ports.open(this.settings);
    this.conn = conn;
    const died = (err?: Error): void => {
      if (this.conn !== conn) return; // our own close(), or a second report of the same loss
      this.conn = undefined;
      void conn.close();
      events.closed(err ?? new Error(`${this.settings.path} was closed (unplugged?)`));
    };
    conn.onData((chunk) => {
      if (this.conn === conn) events.data(chunk);
    });
    // An error on a serial line (EIO, a failed read) means the adapter is going away:
    // the bus treats it as a loss and reopens, as it did before the port layer existed.
    conn.onError((err) => died(err));
    conn.onClose((err) => died(err));
  }

  write(data: Buffer): Promise<void> {
    const conn = this.conn;
    if (!conn) return Promise.reject(new Error(`${this.settings.path} is not open`));
    return conn.write(data);
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }
}

/**
 * An in-process RTU line for unit tests: a ByteLink whose far end is an RtuResponder
 * (the fake slaves). Bytes cross asynchronously, optionally split into small chunks
 * the way a USB serial adapter delivers them.
 */
import type { ByteLink, LinkEvents } from '../../../src/drivers/modbus/link.js';
import { RtuResponder } from '../../../src/drivers/modbus/server/rtu-responder.js';

export class FakeRtuLink implements ByteLink {
  readonly name = '/dev/fake-rtu';
  readonly responder = new RtuResponder((b) => this.deliver(b));
  private events: LinkEvents | undefined;
  writes: Buffer[] = [];
  opens = 0;
  failOpen: Error | undefined;

  constructor(private readonly chunk = 3) {}

  get isOpen(): boolean {
    return this.events !== undefined;
  }

  async open(events: LinkEvents): Promise<void> {
    if (this.failOpen) throw this.failOpen;
    this.opens++;
    this.events = events;
  }

  async write(data: Buffer): Promise<void> {
    if (!this.events) throw new Error('EIO: not open');
    this.writes.push(Buffer.from(data));
    setImmediate(() => this.responder.receive(data));
  }

  async close(): Promise<void> {
    this.events = undefined;
  }

  /** Bytes from the slave side, delivered in small chunks. */
  deliver(b: Buffer): void {
    for (let i = 0; i < b.length; i += this.chunk) {
      const part = Buffer.from(b.subarray(i, i + this.chunk));
      setImmediate(() => this.events?.data(part));
    }
  }

  /** The adapter was pulled out. */
  unplug(err = new Error('EIO: device disconnected')): void {
    const ev = this.events;
    this.events = undefined;
    ev?.closed(err);
  }
}

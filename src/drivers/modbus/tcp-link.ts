/**
 * ByteLink over TCP (node:net). Keepalive is on so a PLC that lost power without a
 * FIN is noticed even between polls; the bus layer also drops the connection after
 * repeated timeouts (ThingsBoard gateway #1592: a power-cycled PLC must not need a
 * gateway restart).
 */
import net from 'node:net';
import type { ByteLink, LinkEvents } from './link.js';

const DONE = Promise.resolve();

export class TcpLink implements ByteLink {
  private socket: net.Socket | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connectTimeoutMs: number,
  ) {}

  get name(): string {
    return `${this.host}:${this.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  open(events: LinkEvents): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port });
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`no connection to ${this.name} within ${this.connectTimeoutMs}ms`)), this.connectTimeoutMs);
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        s.destroy();
        reject(explain(err, this.name));
      };
      s.once('error', fail);
      s.once('connect', () => {
        settled = true;
        clearTimeout(timer);
        s.off('error', fail);
        s.setNoDelay(true);
        s.setKeepAlive(true, 10_000);
        this.socket = s;
        let reported = false;
        const died = (err?: Error): void => {
          if (reported || this.socket !== s) return;
          reported = true;
          this.socket = undefined;
          s.destroy();
          events.closed(err ? explain(err, this.name) : new Error(`${this.name} closed the connection`));
        };
        s.on('data', (d: Buffer) => events.data(d));
        s.on('error', died);
        s.on('close', () => died());
        resolve();
      });
    });
  }

  write(data: Buffer): Promise<void> {
    const s = this.socket;
    if (!s || s.destroyed) return Promise.reject(new Error(`not connected to ${this.name}`));
    // No per-write callback (the hot path): a failed write emits 'error' on the
    // socket, which reports the link closed and fails the exchange in flight.
    s.write(data);
    return DONE;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s && !s.destroyed) s.destroy();
  }
}

function explain(err: Error, where: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === 'ECONNREFUSED'
      ? `${where} refused the connection — is Modbus TCP enabled on the device, and is the port right?`
      : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
        ? `${where} is unreachable — check the cable, IP address and netmask`
        : code === 'ECONNRESET'
          ? `${where} reset the connection (device restarted, or it allows fewer connections)`
          : undefined;
  return hint ? Object.assign(new Error(hint), { code }) : err;
}

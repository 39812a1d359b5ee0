/**
 * A loopback TCP proxy that counts the bytes it forwards in each direction: what the
 * gateway's link would carry above TCP (MQTT packets inside TLS records, handshakes,
 * PUBACKs). IP and TCP headers are not seen here. `close()` drops every connection.
 */
import net from 'node:net';

export interface ByteCount {
  /** Gateway → broker. */
  up: number;
  /** Broker → gateway. */
  down: number;
  connections: number;
}

export class CountingProxy {
  port = 0;
  private readonly count: ByteCount = { up: 0, down: 0, connections: 0 };
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    const a = this.server.address();
    this.port = a && typeof a === 'object' ? a.port : 0;
  }

  /** Bytes so far (a copy). */
  snapshot(): ByteCount {
    return { ...this.count };
  }

  private accept(client: net.Socket): void {
    this.count.connections++;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => {
      this.count.up += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      this.count.down += d.length;
      client.write(d);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

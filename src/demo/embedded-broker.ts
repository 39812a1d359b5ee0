/**
 * An MQTT broker inside the process (aedes; MQTT 3.1.1 only), for `citygate demo`
 * and the tests. `stop()` really closes the listener and every client connection, so
 * tests can stop and restart it on the same port to simulate a broker outage.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

export interface BrokerMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
}

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly listeners = new Set<(m: BrokerMessage) => void>();
  port = 0;

  constructor(
    private readonly host = '127.0.0.1',
    port = 0,
    /** aedes options, e.g. authorizePublish to script a broker that never acknowledges. */
    private readonly options: Parameters<typeof Aedes.createBroker>[0] = {},
  ) {
    this.port = port;
  }

  /** Called for every message a client publishes (not the broker's own $SYS). */
  onPublish(fn: (m: BrokerMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async start(): Promise<number> {
    const broker = await Aedes.createBroker(this.options);
    broker.on('publish', (packet, client) => {
      if (!client) return;
      const m = { topic: packet.topic, payload: Buffer.from(packet.payload), retain: packet.retain, qos: packet.qos };
      for (const fn of this.listeners) fn(m);
    });
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.broker = broker;
    this.server = server;
    return this.port;
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}

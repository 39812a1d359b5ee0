/** The uplink over ws:// (MQTT over WebSocket), for brokers behind HTTP proxies. */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { Aedes } from 'aedes';
import { Gateway } from '../../../src/runtime/gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

describe('ws:// uplink', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('delivers every reading over MQTT-over-WebSocket', async () => {
    const broker = await Aedes.createBroker();
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/mqtt' });
    wss.on('connection', (ws) => broker.handle(createWebSocketStream(ws) as never));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const port = (http.address() as { port: number }).port;
    cleanups.push(async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    });
    const config = testConfig({ url: `ws://127.0.0.1:${port}/mqtt`, devices: [simDevice('w', '10ms', 3)] });
    const seen = new SeqCollector(`citygate/${config.gateway.id}`);
    broker.on('publish', (p, client) => client && seen.add(p.topic, Buffer.from(p.payload)));
    const gw = new Gateway(config);
    await gw.start();
    cleanups.push(() => gw.stop());
    await seen.waitFor(() => seen.unique.size >= 300, 10_000, '300 readings over ws');
    expect(seen.missing(1, seen.max)).toEqual([]);
    expect(gw.uplink.stats().state).toBe('online');
  });
});

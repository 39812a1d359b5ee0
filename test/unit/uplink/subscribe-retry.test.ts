/**
 * A broker that refuses the command SUBSCRIBE (SUBACK 0x80) and keeps the connection,
 * as a NATS cluster does while JetStream elects leaders (docs/brokers.md): the uplink
 * tries again on the same connection, logs the failure once, and commands then answer.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { Gateway } from '../../../src/runtime/gateway.js';
import { createLogger } from '../../../src/core/log.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('a refused command SUBSCRIBE is tried again on the same connection; commands then answer', async () => {
  const aedes = await Aedes.createBroker();
  let refusals = 0;
  aedes.authorizeSubscribe = (client, sub, done) => {
    if (client?.id.startsWith('citygate-') && sub.topic.includes('/cmd/') && refusals < 2) {
      refusals++;
      return done(null, null as never); // SUBACK 0x80, connection kept
    }
    done(null, sub);
  };
  const server = net.createServer((s) => aedes.handle(s as never));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  cleanups.push(async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });

  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    pretty: false,
    destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) }),
  });
  const config = testConfig({ url, protocolVersion: 4, devices: [simDevice('a', '50ms', 1)] });
  const root = `citygate/${config.gateway.id}`;
  const gw = new Gateway(config, { log });
  await gw.start();
  cleanups.push(() => gw.stop());

  const asker = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'asker', reconnectPeriod: 0 });
  cleanups.push(async () => void (await asker.endAsync(true)));
  let reply = '';
  asker.on('message', (_t, p) => (reply = p.toString()));
  await asker.subscribeAsync(`${root}/cmd/ping/reply`, { qos: 1 });
  // Retries after 5 s, then 10 s: the second is accepted within ~16 s.
  const end = Date.now() + 25_000;
  for (let i = 0; !reply && Date.now() < end; i++) {
    await asker.publishAsync(`${root}/cmd/ping`, JSON.stringify({ id: `p${i}`, args: {} }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(refusals).toBe(2);
  expect(reply).toMatch(/"command":"ping"/);
  expect(gw.uplink.stats().reconnects).toBe(0);
  expect(lines.filter((l) => /subscribing to commands failed/.test(l))).toHaveLength(1);
  expect(lines.filter((l) => /subscribed to commands/.test(l))).toHaveLength(1);
}, 30_000);

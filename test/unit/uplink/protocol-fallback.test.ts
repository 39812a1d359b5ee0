/**
 * MQTT 5 configured (the default), broker speaking 3.1.1 only (NATS 2.9, RabbitMQ 3.x:
 * docs/brokers.md): the uplink gets online with 3.1.1 by itself and says so in one log
 * line. Two refusals exist in the field, both faked here in-process with aedes (which
 * speaks 3.1.1 only): a CONNACK "unacceptable protocol version" (aedes and NATS), and
 * the connection closed with no CONNACK at all (RabbitMQ 3.x cannot parse the CONNECT).
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { Gateway } from '../../../src/runtime/gateway.js';
import { createLogger } from '../../../src/core/log.js';
import { ProtocolChoice } from '../../../src/uplink/protocol-choice.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * An aedes broker on a loopback port. `silentOnV5`: a CONNECT with protocol level 5 is
 * answered by closing the socket (RabbitMQ 3.x); otherwise aedes answers it (CONNACK 1).
 */
async function broker(silentOnV5: boolean) {
  const aedes = await Aedes.createBroker();
  const versions: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      // Fixed header (1 byte + 1–4 length bytes), then "\0\x04MQTT" and the level.
      let i = 1;
      while (i < 5 && (first[i]! & 0x80) !== 0) i++;
      const level = first[i + 1 + 6] ?? 0;
      versions.push(level);
      if (silentOnV5 && level === 5) return socket.destroy();
      socket.pause();
      socket.unshift(first);
      aedes.handle(socket as never);
      socket.resume();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  });
  return { aedes, versions, url: `mqtt://127.0.0.1:${port}` };
}

function capturedLog() {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info', pretty: false, destination }) };
}

describe('MQTT 5 configured, broker speaking 3.1.1 only', () => {
  for (const silentOnV5 of [false, true]) {
    const how = silentOnV5 ? 'closes the connection without CONNACK (RabbitMQ 3.x)' : 'answers CONNACK 1 (NATS 2.9, aedes)';
    it(`falls back to 3.1.1 and delivers, one log line: the broker ${how}`, async () => {
      const b = await broker(silentOnV5);
      const config = testConfig({ url: b.url, protocolVersion: 5, devices: [simDevice('a', '10ms', 3)] });
      expect(config.uplink.protocol_version).toBe(5);
      const seen = new SeqCollector(`citygate/${config.gateway.id}`);
      b.aedes.on('publish', (p, client) => client && seen.add(p.topic, Buffer.from(p.payload)));
      const { lines, log } = capturedLog();
      const gw = new Gateway(config, { log });
      await gw.start();
      cleanups.push(() => gw.stop());
      await seen.waitFor(() => seen.unique.size >= 200, 10_000, '200 readings after the fallback');
      expect(seen.missing(1, seen.max)).toEqual([]);
      expect(gw.uplink.stats().state).toBe('online');
      // First attempt MQTT 5, then 3.1.1 and nothing else.
      expect(b.versions[0]).toBe(5);
      expect(b.versions.slice(1).every((v) => v === 4), `levels offered: ${b.versions.join(',')}`).toBe(true);
      const fallbackLines = lines.filter((l) => /speaks MQTT 3\.1\.1 only/.test(l.msg));
      expect(fallbackLines).toHaveLength(1);
      expect(fallbackLines[0]!.msg).toMatch(/protocol_version: 4/);
    });
  }

  it('protocol_version: 4 offers 3.1.1 from the first attempt, no fallback line', async () => {
    const b = await broker(true);
    const config = testConfig({ url: b.url, protocolVersion: 4, devices: [simDevice('a', '10ms', 2)] });
    const seen = new SeqCollector(`citygate/${config.gateway.id}`);
    b.aedes.on('publish', (p, client) => client && seen.add(p.topic, Buffer.from(p.payload)));
    const { lines, log } = capturedLog();
    const gw = new Gateway(config, { log });
    await gw.start();
    cleanups.push(() => gw.stop());
    await seen.waitFor(() => seen.unique.size >= 50, 10_000, '50 readings');
    expect(b.versions).toEqual([4]);
    expect(lines.filter((l) => /3\.1\.1 only/.test(l.msg))).toEqual([]);
  });
});

describe('ProtocolChoice', () => {
  it('a refused connection that is not about the version keeps MQTT 5', () => {
    const p = new ProtocolChoice(5);
    p.failed('ECONNREFUSED', false);
    p.failed(5, true); // not authorized
    p.failed(undefined, false); // closed before CONNECT was written (TCP or TLS)
    expect(p.version).toBe(5);
  });

  it('3.1.1 failing too returns to 5; once 3.1.1 is accepted it stays', () => {
    const p = new ProtocolChoice(5);
    p.failed(1, true);
    expect(p.version).toBe(4);
    p.failed('ECONNREFUSED', false);
    expect(p.version).toBe(5);
    p.failed(undefined, true);
    expect(p.version).toBe(4);
    expect(p.accepted()).toBe(true);
    expect(p.accepted()).toBe(false); // logged once
    p.failed(undefined, true);
    p.failed('ECONNREFUSED', false);
    expect(p.version).toBe(4);
  });

  it('MQTT 5 accepted first: no fallback ever reported', () => {
    const p = new ProtocolChoice(5);
    expect(p.accepted()).toBe(false);
    expect(p.version).toBe(5);
  });

  it('a configured 4 never changes', () => {
    const p = new ProtocolChoice(4);
    p.failed(1, true);
    expect(p.version).toBe(4);
    expect(p.accepted()).toBe(false);
  });
});

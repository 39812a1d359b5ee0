/**
 * The Sparkplug B edge node end to end: the real Gateway (sim and Modbus devices) speaking
 * `dialect: sparkplug` to an in-process aedes broker, watched by a Sparkplug host application
 * (test/helpers/sparkplug-host.ts) that checks the spec's normative statements on every
 * message it gets. docs/sparkplug.md lists each statement and the test here that covers it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { ModbusTcpServer } from '../../../src/drivers/modbus/server/tcp-server.js';
import { simDevice, tempDir, testConfig } from '../../helpers/gateway-config.js';
import { until } from '../../helpers/commander.js';
import { SparkplugHost, num } from '../../helpers/sparkplug-host.js';
import type { MqttClient } from 'mqtt';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const GROUP = 'City.North';
const NODE = 'sp-gw';

async function broker(): Promise<EmbeddedBroker> {
  const b = new EmbeddedBroker();
  await b.start();
  cleanup.push(() => b.stop());
  return b;
}

async function host(url: string, state?: boolean): Promise<SparkplugHost> {
  const h = await SparkplugHost.connect(url, GROUP, 'scada', state);
  cleanup.push(() => h.close());
  return h;
}

function gateway(url: string, o: { primaryHost?: string; devices?: unknown[]; extra?: Record<string, unknown>; uplink?: Record<string, unknown>; dataDir?: string } = {}): Gateway {
  const config = testConfig({
    url,
    id: NODE,
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    devices: o.devices ?? [simDevice('sim-1', '20ms', 2)],
    uplink: { dialect: 'sparkplug', sparkplug: { group_id: GROUP, ...(o.primaryHost ? { primary_host: o.primaryHost } : {}) }, ...o.uplink },
    ...(o.extra ? { extra: o.extra } : {}),
  });
  const gw = new Gateway(config);
  // A test may have stopped it already (a second stop finds the buffer closed).
  cleanup.push(() => gw.stop().catch(() => undefined));
  return gw;
}

/** The uplink's MQTT socket, cut without DISCONNECT (what a dead link or kill -9 looks like to the broker). */
function cutLink(gw: Gateway): void {
  const client = (gw.uplink as unknown as { client?: MqttClient }).client;
  if (!client) throw new Error('no uplink client to cut');
  client.stream.destroy();
}

function expectClean(h: SparkplugHost): void {
  expect(h.violations).toEqual([]);
}

describe('Sparkplug B edge node (aedes, checked by a host application)', () => {
  it('births before data; every reading carries its citygate seq; NDEATH with the session bdSeq on a clean stop', async () => {
    const b = await broker();
    const h = await host(b.url);
    const gw = gateway(b.url);
    await gw.start();
    await until(() => h.readings(NODE, 'sim-1').length >= 20, 10_000, 'DDATA');
    const births = h.of('NBIRTH', NODE);
    expect(births).toHaveLength(1);
    const first = h.messages.findIndex((m) => m.node === NODE);
    expect(h.messages[first]?.type).toBe('NBIRTH');
    expect(h.messages[first + 1]).toMatchObject({ type: 'DBIRTH', device: 'sim-1' });
    // citygate's seq reaches the host on every metric, without gaps here (nothing was dropped).
    const seqs = h.readings(NODE, 'sim-1').map((r) => r.seq).sort((a, c) => a - c);
    expect(seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1)).toBe(true);
    await gw.stop();
    await until(() => h.of('NDEATH', NODE).length === 1, 5000, 'NDEATH');
    expect(h.of('NDEATH', NODE)[0]?.bdSeq).toBe(births[0]?.bdSeq);
    expect(h.nodes.get(NODE)?.born).toBe(false);
    expectClean(h);
    for (const id of ['topics-nbirth-mqtt', 'payloads-nbirth-seq', 'payloads-nbirth-bdseq', 'topics-nbirth-rebirth-metric', 'topics-dbirth-mqtt', 'payloads-dbirth-order', 'payloads-sequence-num-incrementing', 'payloads-alias-uniqueness', 'payloads-alias-data-cmd-requirement', 'payloads-ndeath-seq', 'topics-ndeath-payload', 'payloads-ndeath-will-message-qos']) {
      expect(h.checked.get(id), id).toBeGreaterThan(0);
    }
  });

  it('a cut link: the will (NDEATH) carries the bdSeq of the NBIRTH; the reconnect is a new session, born again with the next bdSeq, no data in between', async () => {
    const b = await broker();
    const h = await host(b.url);
    const dataDir = tempDir();
    const gw = gateway(b.url, { dataDir });
    await gw.start();
    for (let cut = 1; cut <= 3; cut++) {
      await until(() => h.of('DDATA', NODE).length > 5 * cut, 10_000, `data before cut ${cut}`);
      cutLink(gw);
      await until(() => h.of('NDEATH', NODE).length === cut, 10_000, `will after cut ${cut}`);
      await until(() => h.of('NBIRTH', NODE).length === cut + 1, 15_000, `rebirth after cut ${cut}`);
    }
    const births = h.of('NBIRTH', NODE).map((m) => m.bdSeq as number);
    const deaths = h.of('NDEATH', NODE).map((m) => m.bdSeq as number);
    expect(deaths).toEqual(births.slice(0, 3));
    expect(births.slice(1)).toEqual(births.slice(0, 3).map((n) => (n + 1) % 256));
    await until(() => h.of('DDATA', NODE).length > 20, 10_000, 'data after the last rebirth');
    expectClean(h);
    await gw.stop();
    // bdSeq survives a restart (data_dir/sparkplug-bdseq): the next life does not reuse one.
    const again = gateway(b.url, { dataDir });
    await again.start();
    await until(() => h.of('NBIRTH', NODE).length === 5, 10_000, 'birth after restart');
    expect(h.of('NBIRTH', NODE)[4]?.bdSeq).toBe(((births[3] as number) + 1) % 256);
    expectClean(h);
  });

  it('seq wraps from 255 to 0 and keeps counting', async () => {
    const b = await broker();
    const h = await host(b.url);
    const gw = gateway(b.url, { devices: [simDevice('fast', '5ms', 1)], uplink: { batch: { max_readings: 1, max_delay: '1ms' } } });
    await gw.start();
    await until(() => h.messages.filter((m) => m.node === NODE).length > 300, 30_000, '300 messages');
    const seqs = h.messages.filter((m) => m.node === NODE && m.type !== 'NDEATH').map((m) => num(m.payload.seq));
    const wrap = seqs.indexOf(255);
    expect(wrap).toBeGreaterThan(0);
    expect(seqs[wrap + 1]).toBe(0);
    expect(seqs[wrap + 2]).toBe(1);
    expectClean(h);
  });

  it('primary host: nothing before STATE online; offline → NDEATH and silence; online again → new birth, kept data marked is_historical', async () => {
    const b = await broker();
    const h = await host(b.url, false);
    const gw = gateway(b.url, { primaryHost: 'scada' });
    await gw.start();
    await until(() => gw.uplink.stats().state === 'online', 10_000, 'connected');
    await new Promise((r) => setTimeout(r, 800));
    expect(h.messages.filter((m) => m.node === NODE)).toEqual([]);
    await h.setState(true);
    await until(() => h.readings(NODE, 'sim-1').length > 0, 10_000, 'data after STATE online');
    // Readings taken while the host was offline arrive, marked historical; fresh ones are not.
    const firstSession = h.readings(NODE, 'sim-1');
    expect(firstSession.some((r) => r.historical)).toBe(true);
    await until(() => h.readings(NODE, 'sim-1').some((r) => !r.historical), 10_000, 'live data');
    await h.setState(false);
    await until(() => h.of('NDEATH', NODE).length === 1, 10_000, 'NDEATH after STATE offline');
    const silentFrom = h.messages.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.messages.slice(silentFrom).filter((m) => m.node === NODE)).toEqual([]);
    const lastSeqBefore = Math.max(...h.readings(NODE, 'sim-1').map((r) => r.seq));
    await h.setState(true);
    await until(() => h.of('NBIRTH', NODE).length === 2, 15_000, 'birth after STATE online');
    await until(() => h.readings(NODE, 'sim-1').some((r) => r.seq > lastSeqBefore + 20), 10_000, 'data after the second birth');
    const afterwards = h.readings(NODE, 'sim-1').filter((r) => r.seq > lastSeqBefore);
    expect(afterwards.filter((r) => r.historical).length).toBeGreaterThan(0);
    // Nothing lost across the host's absence: every seq after it arrives.
    const got = new Set(afterwards.map((r) => r.seq));
    const top = Math.max(...got);
    for (let s = lastSeqBefore + 1; s <= top; s++) expect(got.has(s), `seq ${s}`).toBe(true);
    expectClean(h);
  });

  it("the primary host dies (its will: STATE offline, same timestamp as its online): the node dies with it and waits for the host's next session", async () => {
    const b = await broker();
    const observer = await SparkplugHost.connect(b.url, GROUP, 'observer');
    cleanup.push(() => observer.close());
    const scada = await SparkplugHost.connect(b.url, GROUP, 'scada', true);
    const gw = gateway(b.url, { primaryHost: 'scada' });
    await gw.start();
    await until(() => observer.of('DDATA', NODE).length > 3, 10_000, 'data while the host is online');
    scada.client.stream.destroy(); // the host crashes: the broker publishes its will
    await until(() => observer.of('NDEATH', NODE).length === 1, 10_000, 'NDEATH after the host died');
    await scada.client.endAsync(true);
    const quietFrom = observer.messages.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(observer.messages.slice(quietFrom).filter((m) => m.node === NODE)).toEqual([]);
    // The host's next session (a newer timestamp): the node is born again.
    const again = await host(b.url, true);
    await until(() => observer.of('NBIRTH', NODE).length === 2, 15_000, 'birth for the next host session');
    await until(() => again.of('DDATA', NODE).length > 0, 10_000, 'data to the new host session');
    expect(observer.violations).toEqual([]);
  });

  it('Rebirth NCMD: NBIRTH (seq 0, same bdSeq) and DBIRTHs again', async () => {
    const b = await broker();
    const h = await host(b.url);
    const gw = gateway(b.url);
    await gw.start();
    await until(() => h.of('DDATA', NODE).length > 3, 10_000, 'data');
    await h.rebirth(NODE);
    await until(() => h.of('NBIRTH', NODE).length === 2, 10_000, 'rebirth');
    await until(() => h.of('DBIRTH', NODE).length >= 2, 10_000, 'device rebirth');
    const [a, c] = h.of('NBIRTH', NODE);
    expect(c?.bdSeq).toBe(a?.bdSeq);
    await until(() => h.of('DDATA', NODE).length > 10, 10_000, 'data after rebirth');
    expectClean(h);
  });

  it('DCMD writes go through commands.allow and commands.writes; answers in citygate/command_reply; device_state drives DDEATH/DBIRTH', async () => {
    const plc = new ModbusTcpServer();
    plc.slave(1).setRegisters('holding', 10, [7]);
    const plcPort = await plc.start(0);
    cleanup.push(() => plc.stop());
    const b = await broker();
    const h = await host(b.url);
    const gw = gateway(b.url, {
      devices: [
        {
          id: 'pump',
          driver: 'modbus',
          bus: 'plc',
          poll: '100ms',
          points: [
            { name: 'speed', table: 'holding', address: 10, type: 'uint16', writable: true, unit: 'rpm' },
            { name: 'limit', table: 'holding', address: 11, type: 'uint16', writable: true },
          ],
        },
      ],
      extra: { buses: { plc: { type: 'modbus-tcp', host: '127.0.0.1', port: plcPort } }, commands: { allow: ['modbus_write'], writes: { pump: ['speed'] } } },
    });
    await gw.start();
    await until(() => h.readings(NODE, 'pump').length > 2, 10_000, 'pump data');
    const birth = h.of('DBIRTH', NODE).find((m) => m.device === 'pump');
    expect(birth?.payload.metrics?.find((m) => m.name === 'speed')).toMatchObject({ type: 'UInt16', properties: { engUnit: { value: 'rpm' } } });
    await h.write(NODE, 'pump', [{ name: 'speed', type: 'UInt16', value: 1450 }]);
    await until(() => h.nodeTexts(NODE, 'citygate/command_reply').length === 1, 10_000, 'write reply');
    expect(h.nodeTexts(NODE, 'citygate/command_reply')[0]).toMatchObject({ command: 'modbus_write', ok: true, result: { point: 'speed', value: 1450 } });
    expect(plc.slave(1).holding[10]).toBe(1450);
    await until(() => h.readings(NODE, 'pump').some((r) => r.point === 'speed' && r.value === 1450), 10_000, 'the written value in DDATA');
    // Not in commands.writes: refused, the register untouched.
    await h.write(NODE, 'pump', [{ name: 'limit', type: 'UInt16', value: 3 }]);
    await until(() => h.nodeTexts(NODE, 'citygate/command_reply').length === 2, 10_000, 'refusal reply');
    expect(h.nodeTexts(NODE, 'citygate/command_reply')[1]).toMatchObject({ ok: false, error: expect.stringMatching(/point "limit" of pump is not writable from the downlink/) });
    expect(plc.slave(1).holding[11]).toBe(0);
    // The command events reach the host too (citygate/event), like every event.
    await until(() => h.nodeTexts(NODE, 'citygate/event').some((e) => (e as { type?: string }).type === 'command'), 10_000, 'command event');
    // The PLC goes away: device_state down → DDEATH; back → DBIRTH before its data.
    await plc.stop();
    await until(() => h.of('DDEATH', NODE).some((m) => m.device === 'pump'), 30_000, 'DDEATH');
    expect(h.nodes.get(NODE)?.devices.has('pump')).toBe(false);
    expectClean(h);
  });
});

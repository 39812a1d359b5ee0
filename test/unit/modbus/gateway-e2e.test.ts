/**
 * End to end from a board file: boards/plc-tcp.yaml, pointed at an in-process Modbus
 * TCP server and an in-process aedes broker, run by the real Gateway (pipeline, SQLite
 * buffer, MQTT uplink). The values a subscriber receives on <topic_root>/data/<device>
 * must equal the server's registers, decoded and scaled as the board says.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { encodeRegisters } from '../../../src/drivers/modbus/codec.js';
import { ModbusTcpServer } from '../../../src/drivers/modbus/server/tcp-server.js';
import { freePort } from '../../helpers/net.js';
import { canAssert, diskTempDir } from '../../helpers/needs.js';

interface DataMsg {
  gateway: string;
  device: string;
  readings: { seq: number; ts: number; point: string; value: unknown; unit?: string; quality: string }[];
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

describe('boards/plc-tcp.yaml through the gateway to a broker', () => {
  it('a subscriber receives the PLC registers, decoded', async (ctx) => {
    // The PLC: registers as the board's map describes them (CDAB for 32/64-bit values).
    const plc = new ModbusTcpServer();
    const s = plc.slave(1);
    s.setRegisters('holding', 0, encodeRegisters(123, 'int16'));
    s.setRegisters('holding', 2, encodeRegisters(42.5, 'float32', 'CDAB'));
    s.setRegisters('holding', 4, encodeRegisters(40.25, 'float32', 'CDAB'));
    s.setRegisters('holding', 8, [0b0000_0001_0000_0001]); // pump1 running, high level alarm
    s.setRegisters('holding', 10, [1450, 0]);
    s.setRegisters('holding', 12, encodeRegisters(2.5, 'float32', 'CDAB'));
    s.setRegisters('holding', 20, encodeRegisters(12345, 'uint32', 'CDAB'));
    s.setRegisters('holding', 22, encodeRegisters(678, 'uint32', 'CDAB'));
    s.setRegisters('holding', 24, encodeRegisters(987654321, 'int64', 'CDAB'));
    s.setRegisters('holding', 100, encodeRegisters('PS12-3.1', 'string', 'ABCD', 8));
    s.setBits('coil', 0, [true, false]);
    s.setBits('discrete', 0, [false, true]);
    const plcPort = await plc.start(0);
    cleanup.push(() => plc.stop());

    const broker = await Aedes.createBroker();
    const server = net.createServer(broker.handle);
    const mqttPort = await freePort();
    await new Promise<void>((r) => server.listen(mqttPort, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => broker.close(() => server.close(() => r()))));

    // The board, pointed at the loopback peers (aedes speaks MQTT 3.1.1 only).
    const board = parse(readFileSync(join(import.meta.dirname, '../../../boards/plc-tcp.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    // On a disk, where the kernel counts the buffer's written bytes (never on tmpfs).
    const data = diskTempDir('cg-modbus-e2e-');
    board.gateway!.data_dir = data.dir;
    board.uplink = { ...board.uplink, url: `mqtt://127.0.0.1:${mqttPort}`, protocol_version: 4, tls: undefined };
    (board.buses!.plc as Record<string, unknown>).host = '127.0.0.1';
    (board.buses!.plc as Record<string, unknown>).port = plcPort;
    board.health = { http: false };
    const checked = checkConfigText(stringify(board), 'plc-tcp.yaml', { env: { MQTT_PASSWORD: 'e2e' } });
    expect(checked.issues).toEqual([]);
    const config = checked.config!;
    const root = config.uplink.topic_root!;

    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => sub.endAsync());
    const got = new Map<string, DataMsg['readings'][number]>();
    const messages: DataMsg[] = [];
    sub.on('message', (topic, payload) => {
      if (topic !== `${root}/data/pump-station`) return;
      const m = JSON.parse(payload.toString()) as DataMsg;
      messages.push(m);
      for (const r of m.readings) if (!got.has(r.point)) got.set(r.point, r);
    });
    await sub.subscribeAsync(`${root}/data/+`, { qos: 1 });

    const gateway = new Gateway(config);
    await gateway.start();
    cleanup.push(() => gateway.stop());

    const end = Date.now() + 15_000;
    while (got.size < 19 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const value = (p: string): unknown => got.get(p)?.value;
    expect(value('wet_well_level')).toBeCloseTo(1.23, 10); // int16 123 × scale 0.01
    expect(got.get('wet_well_level')?.unit).toBe('m');
    expect([value('inflow'), value('outflow'), value('start_level')]).toEqual([42.5, 40.3, 2.5]); // precision 1 on flows
    expect([value('pump1_running'), value('pump1_fault'), value('pump2_running'), value('pump2_fault'), value('high_level_alarm')]).toEqual([true, false, false, false, true]);
    expect([value('pump1_speed_setpoint'), value('pump2_speed_setpoint')]).toEqual([1450, 0]);
    expect([value('pump1_run_hours'), value('pump2_run_hours'), value('pump1_energy')]).toEqual([12345, 678, 987654321]);
    expect(value('program_version')).toBe('PS12-3.1');
    expect([value('pump1_enable'), value('pump2_enable'), value('door_open'), value('mains_ok')]).toEqual([true, false, false, true]);
    expect(got.size).toBe(19);
    expect([...got.values()].every((r) => r.quality === 'good' && Number.isInteger(r.seq))).toBe(true);
    expect(messages[0]).toMatchObject({ gateway: 'pump-station-12', device: 'pump-station' });

    // Health carries the bus snapshot (under the config's bus name), the device's
    // counters, and what ops graph: readings by quality, bytes written to storage.
    const health = gateway.health();
    expect(Object.keys(health.buses)).toEqual(['plc']);
    expect(health.buffer.by_quality.good).toBeGreaterThanOrEqual(19);
    expect(health.buffer.by_quality.bad ?? 0).toBe(0);
    if (canAssert(ctx, data.missing, 'buffer.bytes_written > 0')) expect(health.buffer.bytes_written).toBeGreaterThan(0); // the buffer's fsynced commits
    else expect(health.buffer.bytes_written).toBeGreaterThanOrEqual(0);
    expect(health.uplink.bytes_sent).toBeGreaterThan(messages.length * 100); // every data message went over the socket
    expect(health.uplink.bytes_received).toBeGreaterThan(0); // CONNACK, PUBACKs
    expect(health.uplink.ack_latency_ms?.count).toBeGreaterThanOrEqual(messages.length);
    expect(health.buses['plc']).toMatchObject({ type: 'modbus-tcp', state: 'ok', timeouts: 0 });
    expect(health.devices['pump-station']?.state).toBe('ok');
    expect(health.devices['pump-station']?.counters.requests).toBeGreaterThanOrEqual(5);
  });
});

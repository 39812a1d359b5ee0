/**
 * One gateway in the ThingsBoard dialect against a broker, seen by a client that speaks
 * the API as ThingsBoard's documentation describes it (thingsboard-client.ts). The same
 * scenario runs on the in-process aedes broker (unit) and on a real Mosquitto (interop):
 * connect before telemetry, telemetry with ts and values and every seq accounted for, RPC
 * to a device answered (a write that reaches the PLC), a refused RPC answered with the
 * refusal, RPC to the gateway itself, and a disconnect when a device goes down.
 */
import { expect } from 'vitest';
import { Gateway } from '../../src/runtime/gateway.js';
import { ModbusTcpServer } from '../../src/drivers/modbus/server/tcp-server.js';
import { simDevice, testConfig } from './gateway-config.js';
import { until } from './commander.js';
import { ThingsboardPlatform } from './thingsboard-client.js';

export type Cleanup = (() => Promise<void> | void)[];

const GW = 'tb-gw';

export interface ScenarioOptions {
  /** More uplink settings (the access token). */
  uplink?: Record<string, unknown>;
  /** How the ThingsBoard side signs in to the broker. */
  platform?: { username?: string };
  /** More sim devices beside sim-1 and the pump (each is connected at link up). */
  moreDevices?: number;
}

export async function thingsboardScenario(url: string, protocolVersion: 4 | 5, cleanup: Cleanup, o: ScenarioOptions = {}): Promise<void> {
  const { uplink = {}, platform = {}, moreDevices = 0 } = o;
  const plc = new ModbusTcpServer();
  plc.slave(1).setRegisters('holding', 10, [7]);
  const plcPort = await plc.start(0);
  let plcUp = true;
  cleanup.push(() => (plcUp ? plc.stop() : undefined));

  // The platform listens before the gateway exists: it sees everything from the first message.
  const tb = await ThingsboardPlatform.start(url, protocolVersion, platform);
  cleanup.push(() => tb.close());

  const config = testConfig({
    url,
    id: GW,
    protocolVersion,
    devices: [
      simDevice('sim-1', '100ms', 2),
      ...Array.from({ length: moreDevices }, (_, k) => simDevice(`sim-more-${k}`, '100ms', 1)),
      { id: 'pump', driver: 'modbus', bus: 'plc', poll: '100ms', points: [{ name: 'speed', table: 'holding', address: 10, type: 'uint16', writable: true }] },
    ],
    uplink: { dialect: 'thingsboard', thingsboard: { device_name: '{gateway}.{device}' }, ...uplink },
    extra: {
      buses: { plc: { type: 'modbus-tcp', host: '127.0.0.1', port: plcPort, timeout: '200ms', reconnect: { min: '100ms', max: '1s' } } },
      commands: { allow: ['ping', 'modbus_write'], writes: { pump: ['speed'] }, rate: { max: 4, per: '1m' } },
    },
  });
  const gw = new Gateway(config);
  await gw.start();
  cleanup.push(() => gw.stop());

  const sim = `${GW}.sim-1`;
  const pump = `${GW}.pump`;
  await until(() => tb.telemetry(sim).length >= 3 && tb.telemetry(pump).length >= 3, 15_000, 'telemetry of both devices');
  for (let k = 0; k < moreDevices; k++) expect(tb.seen, `connect of sim-more-${k}`).toContainEqual({ kind: 'connect', device: `${GW}.sim-more-${k}` });

  // Connect comes before a device's first telemetry (ThingsBoard routes RPC to connected devices only).
  for (const name of [sim, pump]) {
    const connected = tb.indexOf((s) => s.kind === 'connect' && s.device === name);
    const first = tb.indexOf((s) => s.kind === 'telemetry' && s.device === name);
    expect(connected, `connect of ${name}`).toBeGreaterThanOrEqual(0);
    expect(connected, `connect of ${name} before its telemetry`).toBeLessThan(first);
  }
  expect(tb.seen).toContainEqual({ kind: 'attributes', device: pump, values: { active: true, citygate_state: 'ok' } });
  expect(tb.seen.find((s) => s.kind === 'me_attributes')).toMatchObject({ values: { citygate_gateway: GW } });

  // Telemetry: a ts and values; each entry names the seqs it carries, and none is carried twice
  // (a resend would repeat a range exactly, which this scenario has no reason to cause).
  const entries = [...tb.telemetry(sim), ...tb.telemetry(pump)];
  const seqs: number[] = [];
  for (const e of entries) {
    expect(Number.isInteger(e.ts)).toBe(true);
    const first = e.values.citygate_seq as number;
    const last = e.values.citygate_seq_last as number;
    expect(last).toBeGreaterThanOrEqual(first);
    for (let s = first; s <= last; s++) seqs.push(s);
  }
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(tb.telemetry(pump)[0]?.values).toMatchObject({ speed: 7 });
  expect(Object.keys(tb.telemetry(sim)[0]?.values ?? {}).filter((k) => !k.startsWith('citygate_')).length).toBeGreaterThan(0);

  // RPC to a device: a write that reaches the PLC, answered as ThingsBoard expects.
  const write = await tb.rpc(pump, 'modbus_write', { point: 'speed', value: 1450 }, { id: 1000 });
  expect(write).toMatchObject({ success: true, result: { point: 'speed', value: 1450, verified: true } });
  expect(plc.slave(1).holding[10]).toBe(1450);
  // A refused RPC gets the refusal (not in commands.allow).
  const refused = await tb.rpc(pump, 'gpio_set', { value: 1 });
  expect(refused).toMatchObject({ success: false, error: expect.stringMatching(/not allowed on this gateway/) });
  // A write to a point commands.writes does not list: refused by the same rule as cmd/modbus_write.
  const notWritable = await tb.rpc(sim, 'modbus_write', { point: 'p', value: 1 });
  expect(notWritable).toMatchObject({ success: false, error: expect.stringMatching(/not writable from the downlink/) });
  // The same RPC again (ThingsBoard resending a persistent RPC): the first answer, marked
  // duplicate, and the PLC is not written again.
  plc.slave(1).setRegisters('holding', 10, [99]);
  const again = await tb.rpc(pump, 'modbus_write', { point: 'speed', value: 1450 }, { id: 1000 });
  expect(again).toMatchObject({ success: true, duplicate: true, result: { verified: true } });
  expect(plc.slave(1).holding[10]).toBe(99);
  // RPC to the gateway itself (device API).
  expect(await tb.rpcToGateway('ping', {})).toMatchObject({ success: true, result: { pong: true } });
  // The rate limit (4 a minute) is the dispatcher's, whatever the dialect: 1450, the write to
  // sim-1 and the ping above were executed (refusals and duplicates are not counted), so one
  // more passes and the next is refused, not executed.
  expect(await tb.rpc(pump, 'modbus_write', { point: 'speed', value: 1500 })).toMatchObject({ success: true });
  expect(await tb.rpc(pump, 'modbus_write', { point: 'speed', value: 1600 })).toMatchObject({ success: false, error: expect.stringMatching(/rate limited: at most 4 commands per 60s/) });
  expect(plc.slave(1).holding[10]).toBe(1500);
  // The executed command is announced on the gateway's timeline, like any event.
  await until(() => tb.seen.some((s) => s.kind === 'me_telemetry' && s.values.citygate_event === 'command'), 10_000, 'the command event');

  // A device that goes down is disconnected, and marked inactive.
  await plc.stop();
  plcUp = false;
  await until(() => tb.seen.some((s) => s.kind === 'disconnect' && s.device === pump), 15_000, 'the disconnect of the pump');
  // The attributes follow the disconnect in their own message.
  const inactive = (s: (typeof tb.seen)[number]): boolean => s.kind === 'attributes' && s.device === pump && s.values.active === false && s.values.citygate_state === 'down';
  await until(() => tb.seen.some(inactive), 10_000, 'active: false for the pump');
  const downEvent = (s: (typeof tb.seen)[number]): boolean => s.kind === 'me_telemetry' && s.values.citygate_event === 'device_state' && (s.values.citygate_event_body as { to?: string }).to === 'down';
  await until(() => tb.seen.some(downEvent), 10_000, 'the device_state event on the gateway');

  // Nothing the gateway sent strays from the documented formats, and no payload carries the access token.
  expect(tb.violations).toEqual([]);
  const token = (uplink.thingsboard as { access_token?: string } | undefined)?.access_token;
  if (token) expect(tb.raw.filter((m) => m.text.includes(token))).toEqual([]);
}

/**
 * The ThingsBoard dialect on the seam (src/uplink/dialects/dialect.ts), with a link that
 * records what it publishes: what opens a connection, how data, events and health are
 * carried, how RPC becomes command requests and answers, what a clean stop sends.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../../../src/core/health-reporter.js';
import { dataMessage } from '../../../../src/buffer/codec.js';
import type { DialectLink, WireMessage } from '../../../../src/uplink/dialects/dialect.js';
import { ThingsboardDialect } from '../../../../src/uplink/dialects/thingsboard.js';
import type { LaneMessage } from '../../../../src/uplink/lanes.js';

function setup(states: Record<string, DeviceState> = { 'meter-1': 'ok', 'air-1': 'down' }) {
  const sent: WireMessage[] = [];
  const warnings: string[] = [];
  const link: DialectLink = { publish: (m) => (sent.push(m), true), reconnect: () => {}, wake: () => {}, protocolVersion: () => 4 };
  const d = new ThingsboardDialect({ gatewayId: 'gw-1', version: '9.9.9', startedAt: 123, deviceName: '{gateway}.{device}', deviceStates: () => states, warn: (t) => warnings.push(t) });
  d.attach(link);
  return { d, sent, warnings, lines: () => sent.map((m) => `${m.topic} ${String(m.payload)}`) };
}

function lane(device: string, bodies: string[], replay = false): LaneMessage {
  return { device, payload: dataMessage('gw-1', device, bodies, replay), ackRows: [1], readings: bodies.length, lane: replay ? 'backlog' : 'live', bytes: 1 };
}

describe('ThingsBoard dialect', () => {
  it('no will; at link up the gateway attributes, then connect for every device that is up', () => {
    const { d, lines, sent } = setup();
    expect(d.will()).toBeUndefined();
    d.online();
    expect(lines()).toEqual([
      'v1/devices/me/attributes {"citygate_gateway":"gw-1","citygate_version":"9.9.9","citygate_device_name":"{gateway}.{device}","citygate_started":123}',
      'v1/gateway/connect {"device":"gw-1.meter-1"}',
      'v1/gateway/attributes {"gw-1.meter-1":{"active":true,"citygate_state":"ok"}}',
      'v1/gateway/attributes {"gw-1.air-1":{"active":false,"citygate_state":"down"}}',
    ]);
    // State goes QoS 0 (sent again at every link up, kept out of the broker's Receive Maximum).
    expect(sent.every((m) => m.qos === 0 && !m.retain)).toBe(true);
    expect(d.ready()).toBe(true);
  });

  it('data: gateway telemetry under the device name, seq kept, the replay flag and unit dropped', () => {
    const { d } = setup();
    const m = d.data(lane('meter-1', ['{"seq":41,"ts":1000,"point":"v","value":230.1,"unit":"V","quality":"good"}', '{"seq":42,"ts":1000,"point":"i","value":1.5,"unit":"A","quality":"good"}'], true));
    expect(m).toEqual({ topic: 'v1/gateway/telemetry', qos: 1, payload: '{"gw-1.meter-1":[{"ts":1000,"values":{"v":230.1,"i":1.5,"citygate_seq":41,"citygate_seq_last":42}}]}' });
  });

  it('a device ThingsBoard has not heard of on this connection is connected before its first telemetry', () => {
    const states: Record<string, DeviceState> = {};
    const { d, lines, sent } = setup(states);
    d.online(); // the link came up before the devices were built
    sent.length = 0;
    states['meter-1'] = 'ok';
    const m = d.data(lane('meter-1', ['{"seq":1,"ts":1,"point":"v","value":1,"quality":"good"}']));
    expect(lines()).toEqual(['v1/gateway/connect {"device":"gw-1.meter-1"}', 'v1/gateway/attributes {"gw-1.meter-1":{"active":true,"citygate_state":"ok"}}']);
    sent.length = 0;
    d.data(lane('meter-1', ['{"seq":2,"ts":2,"point":"v","value":1,"quality":"good"}']));
    expect(sent).toEqual([]); // once per connection
    expect(m.topic).toBe('v1/gateway/telemetry');
  });

  it('a device going down: disconnect and active false before the event itself; back up: connect', () => {
    const { d, lines, sent } = setup();
    d.online();
    sent.length = 0;
    const ev = d.event(JSON.stringify({ type: 'device_state', device: 'meter-1', from: 'ok', to: 'down', reason: 'timeout', ts: 5000 }));
    expect(lines()).toEqual(['v1/gateway/disconnect {"device":"gw-1.meter-1"}', 'v1/gateway/attributes {"gw-1.meter-1":{"active":false,"citygate_state":"down"}}']);
    expect(ev).toMatchObject({ topic: 'v1/devices/me/telemetry', qos: 1 }); // deleted from the buffer on its PUBACK
    expect(JSON.parse(String(ev?.payload))).toEqual({ ts: 5000, values: { citygate_event: 'device_state', citygate_event_body: { type: 'device_state', device: 'meter-1', from: 'ok', to: 'down', reason: 'timeout', ts: 5000 } } });
    sent.length = 0;
    d.event(JSON.stringify({ type: 'device_state', device: 'meter-1', from: 'down', to: 'ok', ts: 6000 }));
    expect(lines()[0]).toBe('v1/gateway/connect {"device":"gw-1.meter-1"}');
  });

  it('loss announcements on the gateway timeline; two in one millisecond both kept; unreadable events have no wire form', () => {
    const { d } = setup();
    d.online();
    const drop = (first: number) => JSON.stringify({ type: 'buffer_dropped', reason: 'max_age', first_seq: first, last_seq: first + 9, count: 10, dropped_total: 10, ts: 7000 });
    const a = JSON.parse(String(d.event(drop(1))?.payload));
    const b = JSON.parse(String(d.event(drop(11))?.payload));
    expect([a.ts, a.values.citygate_loss_first_seq, b.ts, b.values.citygate_loss_first_seq, b.values.citygate_event_body.ts]).toEqual([7000, 1, 7001, 11, 7000]);
    expect(d.event('not json')).toBeUndefined();
    expect(d.event('{"no":"type"}')).toBeUndefined();
    // A new connection stamps the same events the same way (a resend overwrites itself).
    d.down();
    d.online();
    expect(JSON.parse(String(d.event(drop(1))?.payload)).ts).toBe(7000);
  });

  it('health: flat numbers on the gateway; something else is not sent', () => {
    const { d } = setup();
    const h = d.health(JSON.stringify({ ts: 9, buffer: { readings: 1, bytes: 2, next_seq: 3, dropped: 4, rejected: 5, lost: 6, events_evicted: 7, oldest_age_s: 8 } }));
    expect(h).toMatchObject({ topic: 'v1/devices/me/telemetry', qos: 0 });
    expect(JSON.parse(String(h?.payload)).values).toMatchObject({ citygate_dropped: 4, citygate_lost: 6, citygate_next_seq: 3 });
    expect(d.health('nope')).toBeUndefined();
  });

  it('RPC to a device and to the gateway become command requests; their answers go where ThingsBoard waits', () => {
    const { d, warnings } = setup();
    expect(d.commands.filters).toEqual(['v1/gateway/rpc', 'v1/devices/me/rpc/request/+']);
    const [w] = d.commands.requests('v1/gateway/rpc', Buffer.from('{"device":"gw-1.meter-1","data":{"id":3,"method":"modbus_write","params":{"point":"sp","value":2}}}'), {});
    expect(w?.name).toBe('modbus_write');
    expect(JSON.parse(String(w?.payload)).args).toEqual({ point: 'sp', value: 2, device: 'meter-1' });
    expect(w?.reply({ id: 'x', command: 'modbus_write', ok: false, error: 'command "modbus_write" is not allowed on this gateway', ts: 1 })).toEqual({
      topic: 'v1/gateway/rpc',
      qos: 1,
      payload: '{"device":"gw-1.meter-1","id":3,"data":{"success":false,"error":"command \\"modbus_write\\" is not allowed on this gateway"}}',
    });
    const [p] = d.commands.requests('v1/devices/me/rpc/request/17', Buffer.from('{"method":"ping","params":{}}'), {});
    expect(p?.name).toBe('ping');
    expect(p?.reply({ id: 'x', command: 'ping', ok: true, result: { pong: true }, ts: 1 })).toEqual({ topic: 'v1/devices/me/rpc/response/17', qos: 1, payload: '{"success":true,"result":{"pong":true}}' });
    // Our own answer back from a plain broker, and garbage: no request; garbage is reported.
    expect(d.commands.requests('v1/gateway/rpc', Buffer.from('{"device":"gw-1.meter-1","id":3,"data":{"success":true}}'), {})).toEqual([]);
    expect(d.commands.requests('v1/gateway/rpc', Buffer.from('garbage'), {})).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^thingsboard: v1\/gateway\/rpc: not JSON .* — not answered$/)]);
  });

  it('a clean stop disconnects every device that was connected, the last one as the closing message', () => {
    const { d, lines, sent } = setup({ a: 'ok', b: 'ok', c: 'down' });
    d.online();
    sent.length = 0;
    const last = d.closing();
    expect(lines()).toEqual(['v1/gateway/disconnect {"device":"gw-1.a"}']);
    expect(last).toEqual({ topic: 'v1/gateway/disconnect', payload: '{"device":"gw-1.b"}', qos: 0 });
    expect(setup({}).d.closing()).toBeUndefined();
  });
});

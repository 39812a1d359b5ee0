/**
 * The ThingsBoard dialect against ThingsBoard's own documented examples, both ways
 * (thingsboard.io/docs/reference/gateway-api/{telemetry,attributes,rpc}/, the gateway MQTT API's
 * connect/disconnect section, and the device MQTT API's telemetry and RPC pages):
 * - up: what we encode has the documented shape, and with citygate's own keys taken out
 *   it IS the documented example;
 * - down: the documented RPC request decodes to the citygate command request it means,
 *   and our answer to it is the documented answer, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import type { CommandReplyPayload, EventPayload, ReadingPayload } from '../../../../src/core/payloads.js';
import { encodeTelemetry, SEQ_KEY, SEQ_LAST_KEY } from '../../../../src/uplink/dialects/thingsboard/telemetry.js';
import { connectPayload, disconnectPayload, DeviceLinks } from '../../../../src/uplink/dialects/thingsboard/devices.js';
import { eventPublish } from '../../../../src/uplink/dialects/thingsboard/events.js';
import { DeviceNames } from '../../../../src/uplink/dialects/thingsboard/names.js';
import { parseDeviceRpc, parseGatewayRpc, rpcReply } from '../../../../src/uplink/dialects/thingsboard/rpc.js';
import { TB } from '../../../../src/uplink/dialects/thingsboard/topics.js';

/** Documented: v1/gateway/telemetry. */
const DOC_TELEMETRY = `{
"Device A": [
{"ts": 1483228800000, "values": {"temperature": 42, "humidity": 80}},
{"ts": 1483228801000, "values": {"temperature": 43, "humidity": 82}}
],
"Device B": [
{"ts": 1483228800000, "values": {"temperature": 42, "humidity": 80}}
]
}`;
/** Documented: v1/gateway/attributes. */
const DOC_ATTRIBUTES = `{ "Device A": {"fw_version": "1.0", "battery": 87}, "Device B": {"fw_version": "2.1", "battery": 92}}`;
/** Documented: v1/gateway/connect and v1/gateway/disconnect. */
const DOC_CONNECT = `{"device":"Device A"}`;
const DOC_DISCONNECT = `{"device":"Device A"}`;
/** Documented: v1/gateway/rpc, request and reply. */
const DOC_RPC_REQUEST = `{ "device": "Device A", "data": {"id": 1, "method": "toggle_gpio", "params": {"pin": 1}}}`;
const DOC_RPC_REPLY = `{"device":"Device A","id":1,"data":{"success":true}}`;
/** Documented: device API server-side RPC (v1/devices/me/rpc/request/$request_id). */
const DOC_ME_RPC_REQUEST = `{"method": "setTemperature", "params": {"value": 26}}`;
/** Documented: device API telemetry with a client-side timestamp. */
const DOC_ME_TELEMETRY = `{"ts": 1451649600512, "values": {"temperature": 22.5, "humidity": 61}}`;

/** Documented shape of gateway telemetry: device name → array of {ts: number, values: {key: primitive or JSON}}. */
function checkTelemetryShape(body: unknown): void {
  expect(typeof body).toBe('object');
  for (const [name, entries] of Object.entries(body as Record<string, unknown>)) {
    expect(typeof name).toBe('string');
    expect(Array.isArray(entries)).toBe(true);
    for (const e of entries as unknown[]) {
      expect(Object.keys(e as object).sort()).toEqual(['ts', 'values']);
      const { ts, values } = e as { ts: unknown; values: unknown };
      expect(Number.isInteger(ts)).toBe(true);
      expect(typeof values === 'object' && values !== null && !Array.isArray(values)).toBe(true);
      for (const v of Object.values(values as object)) expect(['number', 'string', 'boolean', 'object']).toContain(v === null ? 'null' : typeof v);
    }
  }
}

function withoutCitygateKeys(body: Record<string, { ts: number; values: Record<string, unknown> }[]>): unknown {
  const out: Record<string, unknown> = {};
  for (const [name, entries] of Object.entries(body)) {
    out[name] = entries.map((e) => ({ ts: e.ts, values: Object.fromEntries(Object.entries(e.values).filter(([k]) => !k.startsWith('citygate_'))) }));
  }
  return out;
}

function reading(seq: number, ts: number, point: string, value: ReadingPayload['value'], quality: ReadingPayload['quality'] = 'good'): ReadingPayload {
  return { seq, ts, point, value, unit: 'x', quality };
}

describe('ThingsBoard dialect: up, against the documented examples', () => {
  it('telemetry: the documented example, per device, from citygate readings (one entry per poll, seq kept)', () => {
    const a = [reading(1, 1483228800000, 'temperature', 42), reading(2, 1483228800000, 'humidity', 80), reading(5, 1483228801000, 'temperature', 43), reading(6, 1483228801000, 'humidity', 82)];
    const b = [reading(3, 1483228800000, 'temperature', 42), reading(4, 1483228800000, 'humidity', 80)];
    const ours = { ...JSON.parse(encodeTelemetry('Device A', { readings: a })), ...JSON.parse(encodeTelemetry('Device B', { readings: b })) };
    checkTelemetryShape(ours);
    expect(withoutCitygateKeys(ours)).toEqual(JSON.parse(DOC_TELEMETRY));
    // What citygate adds: the seq range of each entry.
    expect(ours['Device A'].map((e: { values: Record<string, number> }) => [e.values[SEQ_KEY], e.values[SEQ_LAST_KEY]])).toEqual([
      [1, 2],
      [5, 6],
    ]);
    expect(ours['Device B'][0].values).toMatchObject({ [SEQ_KEY]: 3, [SEQ_LAST_KEY]: 4 });
  });

  it('telemetry: a bad or null reading keeps its seq and says its quality (ThingsBoard refuses JSON null)', () => {
    const body = JSON.parse(encodeTelemetry('Device A', { readings: [reading(7, 1000, 'temperature', null, 'bad'), reading(8, 1000, 'humidity', 80, 'uncertain')] }));
    checkTelemetryShape(body);
    expect(body).toEqual({ 'Device A': [{ ts: 1000, values: { temperature_quality: 'bad', humidity: 80, humidity_quality: 'uncertain', citygate_seq: 7, citygate_seq_last: 8 } }] });
    expect(JSON.stringify(body)).not.toContain('null');
  });

  it('connect and disconnect: the documented payloads exactly', () => {
    expect(connectPayload('Device A')).toBe(DOC_CONNECT);
    expect(disconnectPayload('Device A')).toBe(DOC_DISCONNECT);
  });

  it('attributes: the documented shape (device name → flat key/value object)', () => {
    const names = new DeviceNames('{device}', 'gw');
    const [, attrs] = new DeviceLinks(names).online({ 'meter-1': 'ok' });
    expect(attrs?.topic).toBe(TB.attributes);
    const ours = JSON.parse(attrs?.payload ?? '');
    const doc = JSON.parse(DOC_ATTRIBUTES);
    const shape = (o: Record<string, Record<string, unknown>>) => Object.values(o).map((v) => Object.values(v).every((x) => ['string', 'number', 'boolean'].includes(typeof x)));
    expect(shape(doc)).toEqual([true, true]);
    expect(shape(ours)).toEqual([true]);
    expect(ours).toEqual({ 'meter-1': { active: true, citygate_state: 'ok' } });
  });

  it('gateway events: the documented device-telemetry shape {"ts","values"} on v1/devices/me/telemetry', () => {
    const ev: EventPayload = { type: 'buffer_dropped', reason: 'max_bytes', first_seq: 10, last_seq: 19, count: 10, dropped_total: 10, ts: 1451649600512 };
    const p = eventPublish(ev);
    expect(p.topic).toBe('v1/devices/me/telemetry');
    const ours = JSON.parse(p.payload);
    const doc = JSON.parse(DOC_ME_TELEMETRY);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(doc).sort());
    expect(ours.ts).toBe(doc.ts);
    expect(ours.values).toMatchObject({ citygate_event: 'buffer_dropped', citygate_loss_first_seq: 10, citygate_loss_last_seq: 19, citygate_loss_count: 10, citygate_loss_reason: 'max_bytes' });
  });
});

describe('ThingsBoard dialect: down, the documented RPC requests', () => {
  const names = new DeviceNames('{device}', 'gw');

  it('v1/gateway/rpc: the documented request becomes the citygate command it names, device added', () => {
    const r = parseDeviceRpc(Buffer.from(DOC_RPC_REQUEST), names);
    if (!r.ok) throw new Error('not parsed');
    expect(r.call.command).toBe('toggle_gpio');
    const req = JSON.parse(r.call.request.toString());
    expect(req.args).toEqual({ pin: 1, device: 'Device A' });
    expect(req.id).toMatch(/^tb:Device_A:1:[0-9a-f]{8}$/);
    expect(r.call.origin).toEqual({ kind: 'device', name: 'Device A', id: 1 });
  });

  it('v1/gateway/rpc: our answer to it is the documented reply, byte for byte', () => {
    const r = parseDeviceRpc(Buffer.from(DOC_RPC_REQUEST), names);
    if (!r.ok) throw new Error('not parsed');
    const reply: CommandReplyPayload = { id: 'tb:Device_A:1:x', command: 'toggle_gpio', ok: true, ts: 1 };
    expect(rpcReply(r.call.origin, reply)).toEqual({ topic: 'v1/gateway/rpc', payload: DOC_RPC_REPLY });
  });

  it('v1/gateway/rpc: our own answer seen again on the shared topic is not taken for a request', () => {
    expect(parseDeviceRpc(Buffer.from(DOC_RPC_REPLY), names)).toEqual({ ok: false, reply: true });
  });

  it('device API RPC to the gateway itself: request id from the topic, answer on the response topic', () => {
    const r = parseGatewayRpc('v1/devices/me/rpc/request/42', Buffer.from(DOC_ME_RPC_REQUEST));
    if (!r.ok) throw new Error('not parsed');
    expect(r.call.command).toBe('setTemperature');
    expect(JSON.parse(r.call.request.toString()).args).toEqual({ value: 26 });
    const out = rpcReply(r.call.origin, { id: 'x', command: 'setTemperature', ok: false, error: 'unknown command', ts: 1 });
    expect(out).toEqual({ topic: 'v1/devices/me/rpc/response/42', payload: '{"success":false,"error":"unknown command"}' });
  });
});

/**
 * The ThingsBoard codec modules beyond the documented examples: every seq stays
 * accounted for in telemetry (property), names map both ways, device links send only
 * changes, events keep their millisecond apart, RPC maps onto citygate requests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataPayload, ReadingPayload } from '../../../../src/core/payloads.js';
import type { Reading } from '../../../../src/core/reading.js';
import { dataMessage, readingJson } from '../../../../src/buffer/codec.js';
import { SEQ_KEY, SEQ_LAST_KEY, encodeTelemetry, telemetryEntries } from '../../../../src/uplink/dialects/thingsboard/telemetry.js';
import { DeviceLinks } from '../../../../src/uplink/dialects/thingsboard/devices.js';
import { EventStamps, eventEntry } from '../../../../src/uplink/dialects/thingsboard/events.js';
import { DeviceNames, deviceNameProblem } from '../../../../src/uplink/dialects/thingsboard/names.js';
import { argsOf, parseDeviceRpc, parseGatewayRpc, requestId } from '../../../../src/uplink/dialects/thingsboard/rpc.js';
import { healthPublish } from '../../../../src/uplink/dialects/thingsboard/health.js';
import { parseRequest } from '../../../../src/commands/protocol.js';

describe('telemetry entries', () => {
  const readingArb = fc.record({
    ts: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_003 }),
    point: fc.constantFrom('a', 'b', 'c', 'a_quality'),
    value: fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.string({ maxLength: 3 })),
    quality: fc.constantFrom('good' as const, 'bad' as const, 'uncertain' as const),
    gap: fc.integer({ min: 1, max: 3 }),
  });

  it('every seq lands in exactly one entry, each entry covers a run of consecutive seqs with one ts', () => {
    fc.assert(
      fc.property(fc.array(readingArb, { maxLength: 40 }), (rows) => {
        let seq = 100;
        const readings: ReadingPayload[] = rows.map((r) => ({ seq: (seq += r.gap), ts: r.ts, point: r.point, value: r.value, quality: r.quality }));
        const entries = telemetryEntries(readings);
        const covered: number[] = [];
        for (const e of entries) {
          const first = e.values[SEQ_KEY] as number;
          const last = e.values[SEQ_LAST_KEY] as number;
          for (let s = first; s <= last; s++) covered.push(s);
          const inside = readings.filter((r) => r.seq >= first && r.seq <= last);
          expect(inside.every((r) => r.ts === e.ts)).toBe(true);
          expect(inside.length).toBe(last - first + 1); // no gap inside an entry
          for (const r of inside) {
            if (r.value !== null) expect(e.values[r.point]).toEqual(r.value);
            if (r.quality !== 'good') expect(e.values[`${r.point}_quality`]).toBe(r.quality);
          }
          expect(Object.values(e.values)).not.toContain(null);
        }
        expect(covered).toEqual(readings.map((r) => r.seq));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('a point repeated within one ts starts a new entry (ThingsBoard would keep only one value)', () => {
    const r = (seq: number, point: string, value: number): ReadingPayload => ({ seq, ts: 5, point, value, quality: 'good' });
    expect(telemetryEntries([r(1, 'a', 1), r(2, 'a', 2)])).toEqual([
      { ts: 5, values: { a: 1, citygate_seq: 1, citygate_seq_last: 1 } },
      { ts: 5, values: { a: 2, citygate_seq: 2, citygate_seq_last: 2 } },
    ]);
  });
});

describe('device names', () => {
  it('map both ways, with the gateway id in by default', () => {
    const n = new DeviceNames('{gateway}.{device}', 'cs-yuelu-0042');
    expect(n.name('meter-1')).toBe('cs-yuelu-0042.meter-1');
    expect(n.device('cs-yuelu-0042.meter-1')).toBe('meter-1');
    expect(n.device('cs-yuelu-0043.meter-1')).toBeUndefined();
    expect(n.device('cs-yuelu-0042.Meter 1')).toBeUndefined();
    const plain = new DeviceNames('Pole 42 / {device}', 'gw');
    expect(plain.device(plain.name('air-1'))).toBe('air-1');
  });

  it('refuse templates that cannot name every device apart', () => {
    expect(deviceNameProblem('{gateway}')).toMatch(/exactly once/);
    expect(deviceNameProblem('{device}-{device}')).toMatch(/exactly once/);
    expect(deviceNameProblem('{device}{gatway}')).toMatch(/only \{gateway\} and \{device\}/);
    expect(deviceNameProblem('{gateway}/{device}')).toBeUndefined();
    expect(() => new DeviceNames('x', 'gw')).toThrow(/device_name/);
  });
});

describe('device links', () => {
  const links = (): DeviceLinks => new DeviceLinks(new DeviceNames('{device}', 'gw'));

  it('link up: connect every device that is not down, attributes for all; a down one is not disconnected', () => {
    const l = links();
    const out = l.online({ a: 'ok', b: 'down', c: 'degraded' });
    expect(out.map((p) => `${p.topic} ${p.payload}`)).toEqual([
      'v1/gateway/connect {"device":"a"}',
      'v1/gateway/attributes {"a":{"active":true,"citygate_state":"ok"}}',
      'v1/gateway/attributes {"b":{"active":false,"citygate_state":"down"}}',
      'v1/gateway/connect {"device":"c"}',
      'v1/gateway/attributes {"c":{"active":true,"citygate_state":"degraded"}}',
    ]);
    expect(l.connected('a')).toBe(true);
    expect(l.connected('b')).toBe(false);
  });

  it('transitions: disconnect on down, connect on up, only the state attribute between ok and degraded, nothing on a repeat', () => {
    const l = links();
    l.online({ a: 'ok' });
    expect(l.transition('a', 'degraded').map((p) => p.topic)).toEqual(['v1/gateway/attributes']);
    expect(l.transition('a', 'down').map((p) => `${p.topic} ${p.payload}`)).toEqual(['v1/gateway/disconnect {"device":"a"}', 'v1/gateway/attributes {"a":{"active":false,"citygate_state":"down"}}']);
    expect(l.transition('a', 'down')).toEqual([]);
    expect(l.transition('a', 'ok').map((p) => p.topic)).toEqual(['v1/gateway/connect', 'v1/gateway/attributes']);
    // A device first heard of by its event (added by a reload) is connected too.
    expect(l.transition('new', 'ok').map((p) => p.topic)).toEqual(['v1/gateway/connect', 'v1/gateway/attributes']);
  });
});

describe('gateway events', () => {
  it('events of one millisecond are filed 1 ms apart; a new connection stamps them the same way again', () => {
    const s = new EventStamps();
    const run = () => [s.stamp(1000), s.stamp(1000), s.stamp(1000), s.stamp(1005), s.stamp(1005)];
    expect(run()).toEqual([1000, 1001, 1002, 1005, 1006]);
    s.reset();
    expect(run()).toEqual([1000, 1001, 1002, 1005, 1006]);
    expect(s.stamp(2_000_000)).toBe(2_000_000);
    expect(s.stamp(1_000_000)).toBe(1_000_000); // a clock step back: kept as it is
  });

  it('every event carries its type and body; a purge names its device; non-loss events carry no loss keys', () => {
    const purge = eventEntry({ type: 'buffer_purged', first_seq: 1, last_seq: 4, count: 4, device: 'm1', ts: 9 });
    expect(purge.values).toMatchObject({ citygate_event: 'buffer_purged', citygate_loss_kind: 'purged', citygate_loss_device: 'm1', citygate_event_body: { type: 'buffer_purged', device: 'm1' } });
    const lost = eventEntry({ type: 'buffer_lost', reason: 'ledger_damaged', first_seq: 5, last_seq: 9, count: 5, ts: 9 });
    expect(lost.values).toMatchObject({ citygate_loss_kind: 'lost', citygate_loss_reason: 'ledger_damaged' });
    const started = eventEntry({ type: 'gateway_started', version: '1.0.0', ts: 9 });
    expect(Object.keys(started.values).sort()).toEqual(['citygate_event', 'citygate_event_body']);
    expect(eventEntry({ type: 'buffer_rejected', reason: 'disk_full', count: 3, rejected_total: 3, ts: 1 }).values.citygate_rejected_count).toBe(3);
  });
});

describe('RPC', () => {
  const names = new DeviceNames('{gateway}.{device}', 'gw-1');
  const call = (body: unknown) => {
    const r = parseDeviceRpc(Buffer.from(JSON.stringify(body)), names);
    if (!r.ok) throw new Error(JSON.stringify(r));
    return { ...r.call, req: parseRequest(r.call.request) };
  };

  it('a write to one of our devices: the citygate id, params as args, a request the dispatcher accepts', () => {
    const c = call({ device: 'gw-1.meter-1', data: { id: 7, method: 'modbus_write', params: { point: 'setpoint', value: 21 } } });
    expect(c.command).toBe('modbus_write');
    expect(c.req).toMatchObject({ ok: true, request: { args: { point: 'setpoint', value: 21, device: 'meter-1' } } });
  });

  it('the RPC device wins over a device in params; params given as JSON text are read', () => {
    const c = call({ device: 'gw-1.meter-1', data: { id: 8, method: 'gpio_set', params: '{"device":"other","value":1}' } });
    expect(c.req).toMatchObject({ ok: true, request: { args: { device: 'meter-1', value: 1 } } });
  });

  it('params that are not an object reach the dispatcher as such and are refused there', () => {
    expect(argsOf(5)).toBe(5);
    expect(argsOf('not json')).toBe('not json');
    expect(argsOf(null)).toEqual({});
    const c = call({ device: 'gw-1.meter-1', data: { id: 9, method: 'ping', params: [1, 2] } });
    expect(c.req).toMatchObject({ ok: false, error: '"args" must be a JSON object' });
  });

  it('the same ThingsBoard RPC again has the same id (a retry); another id, params or device does not', () => {
    const id = requestId('meter-1', 1, 'modbus_write', { value: 1 });
    expect(requestId('meter-1', 1, 'modbus_write', { value: 1 })).toBe(id);
    expect(requestId('meter-1', 2, 'modbus_write', { value: 1 })).not.toBe(id);
    expect(requestId('meter-1', 1, 'modbus_write', { value: 2 })).not.toBe(id);
    expect(requestId('meter-2', 1, 'modbus_write', { value: 1 })).not.toBe(id);
    expect(requestId('meter-1', { x: 1 }, 'ping', {})).toBeUndefined();
  });

  it('a request without an id reaches the dispatcher without one (refused: it cannot be told apart)', () => {
    const c = call({ device: 'gw-1.meter-1', data: { method: 'ping' } });
    expect(c.req).toMatchObject({ ok: false, id: null });
  });

  it('unreadable requests on v1/gateway/rpc are errors; to the gateway itself they are answered by the dispatcher', () => {
    expect(parseDeviceRpc(Buffer.from('nope'), names)).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
    expect(parseDeviceRpc(Buffer.from('{"device":1}'), names)).toMatchObject({ ok: false, error: expect.stringMatching(/expected/) });
    const me = parseGatewayRpc('v1/devices/me/rpc/request/3', Buffer.from('nope'));
    expect(me.ok && parseRequest(me.call.request)).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
    expect(parseGatewayRpc('v1/devices/me/rpc/response/3', Buffer.from('{}'))).toMatchObject({ ok: false });
  });
});

describe('health', () => {
  it('flat numbers from the full snapshot and from the compact one', () => {
    const full = { ts: 5, uptime_s: 9, buffer: { readings: 3, bytes: 10, next_seq: 44, dropped: 1, rejected: 0, lost: 2, events_evicted: 0, oldest_age_s: null }, uplink: { reconnects: 1, acked_readings: 40 }, devices: { a: { state: 'ok' }, b: { state: 'down' } } };
    const p = healthPublish(JSON.stringify(full));
    expect(p?.topic).toBe('v1/devices/me/telemetry');
    expect(JSON.parse(p?.payload ?? '')).toEqual({
      ts: 5,
      values: { citygate_buffer_readings: 3, citygate_buffer_bytes: 10, citygate_next_seq: 44, citygate_dropped: 1, citygate_rejected: 0, citygate_lost: 2, citygate_events_evicted: 0, citygate_uplink_reconnects: 1, citygate_acked_readings: 40, citygate_uptime_s: 9, citygate_devices_ok: 1, citygate_devices_degraded: 0, citygate_devices_down: 1 },
    });
    const compact = JSON.parse(healthPublish(JSON.stringify({ ts: 6, device_states: { ok: 7, degraded: 1, down: 0 } }))?.payload ?? '');
    expect(compact.values).toEqual({ citygate_devices_ok: 7, citygate_devices_degraded: 1, citygate_devices_down: 0 });
    expect(healthPublish('nope')).toBeUndefined();
  });
});

describe('size against citygate JSON (the figures in docs/thingsboard.md#limits)', () => {
  it('100 readings: 0.26× with 10 points per poll, up to 1.47× with one point per poll, no unit, bad quality', () => {
    const T = 1_764_600_000_000;
    const ratio = (pointsPerPoll: number, unit: string | undefined, quality: 'good' | 'bad'): string => {
      const bodies = Array.from({ length: 100 }, (_, k) =>
        readingJson({ ts: T + Math.floor(k / pointsPerPoll) * 1000, point: `point_${k % pointsPerPoll}`, value: 230.1 + k, ...(unit ? { unit } : {}), quality } as Reading, 1_000_000 + k),
      );
      const json = dataMessage('cs-yuelu-0042', 'meter-1', bodies);
      return (encodeTelemetry('cs-yuelu-0042.meter-1', JSON.parse(json) as DataPayload).length / json.length).toFixed(2);
    };
    expect([ratio(10, 'V', 'good'), ratio(1, 'V', 'good'), ratio(1, undefined, 'good'), ratio(1, undefined, 'bad')]).toEqual(['0.26', '1.04', '1.17', '1.47']);
  });
});

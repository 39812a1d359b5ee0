/**
 * The Sparkplug dialect's pure parts and its mapping, without a broker: datatypes, topics,
 * bdSeq kept across restarts (and a damaged file), DCMD → citygate requests, and events —
 * loss announcements above all — as the `citygate/event` metric.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { get } from 'sparkplug-payload';
import { BdSeq, BDSEQ_FILE } from '../../../src/uplink/dialects/sparkplug/bdseq.js';
import { configuredType, fits, MetricCatalogue } from '../../../src/uplink/dialects/sparkplug/metrics.js';
import { SparkplugTopics } from '../../../src/uplink/dialects/sparkplug/topics.js';
import { dcmdRequests } from '../../../src/uplink/dialects/sparkplug/commands.js';
import { SparkplugDialect } from '../../../src/uplink/dialects/sparkplug/edge-node.js';
import type { WireMessage } from '../../../src/uplink/dialects/dialect.js';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { silentLogger } from '../../../src/core/log.js';

const spb = get('spBv1.0')!;
const dir = (): string => mkdtempSync(join(tmpdir(), 'cg-spb-'));

describe('metric datatypes', () => {
  it('come from the point config when the values keep them', () => {
    expect(configuredType({ type: 'uint16' })).toBe('UInt16');
    expect(configuredType({ type: 'float32' })).toBe('Float');
    expect(configuredType({ type: 'int16', scale: 0.01 })).toBe('Double');
    expect(configuredType({ table: 'coil' })).toBe('Boolean');
    expect(configuredType({ bit: 3, table: 'holding' })).toBe('Boolean');
    expect(configuredType({ wave: 'sine' })).toBeUndefined();
  });

  it('a value the type cannot carry changes the type and asks for a DBIRTH', () => {
    expect(fits('UInt16', 70_000)).toBe(false);
    expect(fits('Int16', -5)).toBe(true);
    expect(fits('Boolean', null)).toBe(true);
    const c = new MetricCatalogue();
    c.declare('d', 'a', 'UInt16', 'rpm');
    expect(c.observe('d', { seq: 1, ts: 1, point: 'a', value: 5, quality: 'good' }).rebirth).toBe(false);
    expect(c.observe('d', { seq: 2, ts: 2, point: 'a', value: 2.5, quality: 'good' })).toMatchObject({ rebirth: true, def: { type: 'Double', unit: 'rpm' } });
    expect(c.observe('d', { seq: 3, ts: 3, point: 'new', value: 'x', quality: 'good' })).toMatchObject({ rebirth: true, def: { type: 'String' } });
    const aliases = c.deviceMetrics('d').map((m) => m.alias);
    expect(new Set(aliases).size).toBe(aliases.length);
  });
});

describe('topics', () => {
  it('builds and parses the namespace', () => {
    const t = new SparkplugTopics('G', 'n1');
    expect(t.device('DDATA', 'dev')).toBe('spBv1.0/G/DDATA/n1/dev');
    expect(t.parse('spBv1.0/G/DCMD/n1/dev')).toEqual({ kind: 'DCMD', node: 'n1', device: 'dev' });
    expect(t.parse('spBv1.0/STATE/host')).toEqual({ kind: 'STATE', host: 'host' });
    expect(t.parse('spBv1.0/other/NCMD/n1')).toBeUndefined();
    expect(t.parse('citygate/x/cmd/ping')).toBeUndefined();
  });
});

describe('bdSeq', () => {
  it('increments per connection, wraps at 256 and survives a restart', () => {
    const d = dir();
    const a = new BdSeq(d, silentLogger());
    expect([a.next(), a.next()]).toEqual([0, 1]);
    expect(new BdSeq(d, silentLogger()).next()).toBe(2);
    writeFileSync(join(d, BDSEQ_FILE), '255\n');
    expect(new BdSeq(d, silentLogger()).next()).toBe(0);
    expect(readFileSync(join(d, BDSEQ_FILE), 'utf8')).toBe('0\n');
  });

  it('a damaged file starts again at 0 (logged), never a crash', () => {
    const d = dir();
    writeFileSync(join(d, BDSEQ_FILE), 'garbage');
    expect(new BdSeq(d, silentLogger()).next()).toBe(0);
  });
});

describe('DCMD → citygate requests', () => {
  it('one write per metric, by alias or name; a redelivery has the same id', () => {
    const c = new MetricCatalogue();
    c.declare('pump', 'speed', 'UInt16', undefined);
    const alias = c.deviceMetrics('pump')[0]?.alias as number;
    const reqs = dcmdRequests('pump', 'modbus', [{ alias, type: 'UInt16', value: 1450 }, { name: 'limit', type: 'UInt16', value: 3 }], 1700000000000, c);
    expect(reqs.map((r) => [r.name, JSON.parse(r.payload.toString())])).toEqual([
      ['modbus_write', { id: `dcmd-1700000000000-${alias}`, args: { device: 'pump', point: 'speed', value: 1450 } }],
      ['modbus_write', { id: 'dcmd-1700000000000-limit', args: { device: 'pump', point: 'limit', value: 3 } }],
    ]);
    expect(dcmdRequests('out', 'gpio', [{ name: 'level', type: 'Boolean', value: true }], 5, c)[0]?.name).toBe('gpio_set');
  });
});

describe('events on the wire', () => {
  it('a loss announcement reaches the host unchanged as citygate/event; device_state down is a DDEATH first', () => {
    const published: WireMessage[] = [];
    const clock = new FakeClock({ wall: 1_800_000_000_000 });
    const d = new SparkplugDialect({ group: 'G', edgeNode: 'n', devices: [{ id: 'dev', driver: 'sim', enabled: true, points: [{ name: 'a' }] }], dataDir: dir(), version: '1.0.0', clock, log: silentLogger() });
    d.attach({ publish: (m) => (published.push(m), true), reconnect: () => undefined, wake: () => undefined, protocolVersion: () => 4 });
    d.will();
    d.online();
    expect(d.ready()).toBe(true);
    expect(published.map((m) => m.topic)).toEqual(['spBv1.0/G/NBIRTH/n', 'spBv1.0/G/DBIRTH/n/dev']);
    const drop = JSON.stringify({ type: 'buffer_dropped', reason: 'max_bytes', first_seq: 10, last_seq: 19, count: 10, dropped_total: 10, ts: 1 });
    const wire = d.event(drop);
    const p = spb.decodePayload(wire?.payload as Buffer);
    expect(wire?.topic).toBe('spBv1.0/G/NDATA/n');
    expect(p.metrics?.[0]?.value).toBe(drop);
    d.event(JSON.stringify({ type: 'device_state', device: 'dev', from: 'ok', to: 'down', ts: 2 }));
    expect(published.at(-1)?.topic).toBe('spBv1.0/G/DDEATH/n/dev');
  });
});

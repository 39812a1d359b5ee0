/**
 * Config changes on a running gateway: the `config` command (whole YAML over MQTT),
 * `reload_config`, and SIGHUP on a real `citygate run` process. Invalid configs come
 * back with file:line:col problems and change nothing; valid ones are written
 * atomically (the previous kept as .last-good) and applied without touching unchanged
 * devices or the buffer; a change that leaves a device down is rolled back.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { loadConfigFile } from '../../../src/config/load.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { startWithOperator, until } from '../../helpers/commander.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { freePort } from '../../helpers/net.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

const sim = (id: string, poll = '50ms') => ({ id, driver: 'sim', poll, points: [{ name: 't', wave: 'counter' }] });

function configDoc(url: string, dir: string, devices: unknown[], extra: Record<string, unknown> = {}) {
  return {
    gateway: { id: 'reload-gw', data_dir: join(dir, 'data') },
    uplink: { url, protocol_version: 4, reconnect: { min: '100ms', max: '1s' }, batch: { max_delay: '50ms' } },
    buffer: { commit_interval: '20ms' },
    health: { interval: '1s', http: false },
    // The file grants remote configs buffer and commands.allow too: the first test widens the allow-list and meets the restart rule.
    commands: { allow: ['ping', 'config', 'reload_config'], config: { remote_may_change: ['devices', 'buses', 'buffer', 'commands.allow'] } },
    devices,
    ...extra,
  };
}

async function setup(devices: unknown[], extra: Record<string, unknown> = {}) {
  const broker = new EmbeddedBroker();
  await broker.start();
  cleanup.push(() => broker.stop());
  const dir = tempDir('cg-reload-');
  const file = join(dir, 'gateway.yaml');
  const doc = configDoc(broker.url, dir, devices, extra);
  writeFileSync(file, stringify(doc));
  const gw = new Gateway(loadConfigFile(file).config, { configFile: file, reloadGraceMs: 1500 });
  const op = await startWithOperator(gw, broker.url, 4, cleanup);
  return { gw, op, file, doc, broker };
}

describe('config changes in place', () => {
  it('refuses an invalid config with file:line:col, applies a good one without touching unchanged devices', async () => {
    const { gw, op, file, doc } = await setup([sim('sim-a'), sim('sim-b')]);
    const original = readFileSync(file, 'utf8');
    const simA = gw.devices.find((d) => d.id === 'sim-a');
    const driverA = simA?.supervisor.current();
    const buffer = gw.buffer;

    const bad = stringify({ ...doc, devices: [sim('sim-a'), { ...sim('sim-b'), poll: 'fast' }] });
    const refused = await op.request('config', { id: 'c-1', args: { yaml: bad } });
    expect(refused).toMatchObject({ ok: false, error: 'config invalid: 1 problem(s), nothing changed' });
    expect(refused.details?.[0]).toMatch(/^gateway\.yaml:\d+:\d+: devices\[1\]\.poll: expected a duration like "10s".*got "fast"/);
    expect(readFileSync(file, 'utf8')).toBe(original);

    const restart = await op.request('config', { id: 'c-2', args: { yaml: stringify({ ...doc, buffer: { max_bytes: '1MiB' } }) } });
    expect(restart).toMatchObject({ ok: false, error: expect.stringMatching(/^buffer changed: that needs a restart/) });

    const seqBefore = gw.buffer.stats().nextSeq;
    const good = stringify({ ...doc, devices: [sim('sim-a'), sim('sim-b', '80ms'), sim('sim-c')], commands: { ...doc.commands, allow: ['ping', 'config', 'reload_config', 'health'] } });
    const applied = await op.request('config', { id: 'c-3', args: { yaml: good } });
    expect(applied).toMatchObject({ ok: true, result: { applied: { added: ['sim-c'], removed: [], changed: ['sim-b'], unchanged: 1, inPlace: ['commands'] }, grace_s: 2 } });
    expect(readFileSync(file, 'utf8')).toBe(good);
    expect(readFileSync(`${file}.last-good`, 'utf8')).toBe(original);
    // sim-a was not restarted: same runtime, same driver instance; the buffer is the same open one.
    expect(gw.devices.find((d) => d.id === 'sim-a')).toBe(simA);
    expect(gw.devices.find((d) => d.id === 'sim-a')?.supervisor.current()).toBe(driverA);
    expect(gw.buffer).toBe(buffer);
    expect(gw.devices.map((d) => d.id)).toEqual(['sim-a', 'sim-b', 'sim-c']);
    await until(() => (gw.health().devices['sim-c']?.readings ?? 0) > 0, 5000, 'sim-c reading');
    expect(gw.buffer.stats().nextSeq).toBeGreaterThan(seqBefore);
    // The new commands section is in force.
    expect(await op.request('health', { id: 'h-1' })).toMatchObject({ ok: true });
  });

  it('rolls back a change that leaves a device down within the grace period', async () => {
    const { gw, op, file, doc } = await setup([sim('sim-a')]);
    const original = readFileSync(file, 'utf8');
    const dead = await freePort();
    const next = stringify({
      ...doc,
      buses: { plc: { type: 'modbus-tcp', host: '127.0.0.1', port: dead, timeout: '100ms' } },
      devices: [sim('sim-a'), { id: 'plc-1', driver: 'modbus', bus: 'plc', poll: '100ms', points: [{ name: 'x', table: 'holding', address: 0, type: 'uint16' }] }],
    });
    const events: Record<string, unknown>[] = [];
    op.client.on('message', (t, p) => {
      if (t === `${gw.topics.root}/events`) events.push(JSON.parse(p.toString()) as Record<string, unknown>);
    });
    expect(await op.request('config', { id: 'c-1', args: { yaml: next } })).toMatchObject({ ok: true, result: { applied: { added: ['plc-1'] } } });
    expect(gw.devices.map((d) => d.id)).toEqual(['sim-a', 'plc-1']);
    await until(() => events.some((e) => e.type === 'config_rolled_back'), 10_000, 'the rollback');
    expect(events.find((e) => e.type === 'config_rolled_back')?.reason).toMatch(/device plc-1 is down/);
    expect(events.find((e) => e.type === 'config_applied')).toMatchObject({ origin: 'command', added: ['plc-1'] });
    await until(() => gw.devices.length === 1, 5000, 'plc-1 removed again');
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(gw.config.devices.map((d) => (d as { id: string }).id)).toEqual(['sim-a']);
  });

  it('reload_config applies the file as edited on disk', async () => {
    const { gw, op, file, doc } = await setup([sim('sim-a')]);
    writeFileSync(file, stringify({ ...doc, devices: [sim('sim-a'), sim('sim-b')] }));
    expect(await op.request('reload_config', { id: 'r-1' })).toMatchObject({ ok: true, result: { applied: { added: ['sim-b'] } } });
    expect(gw.devices.map((d) => d.id)).toEqual(['sim-a', 'sim-b']);
    expect(await op.request('reload_config', { id: 'r-2' })).toMatchObject({ ok: false, error: expect.stringMatching(/another config change/) });
  });

  it('reload_config with the file gone: says so in words, changes nothing', async () => {
    const { gw, file } = await setup([sim('sim-a')]);
    rmSync(file);
    expect(await gw.reloader!.reloadFromFile()).toEqual({ ok: false, error: `cannot read ${file}: it does not exist (moved or deleted?); the gateway keeps running with its current config` });
    expect(gw.devices.map((d) => d.id)).toEqual(['sim-a']);
  });
});

describe('SIGHUP on citygate run', () => {
  it('applies the edited file in place: the process and unchanged devices carry on', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    const dir = tempDir('cg-sighup-');
    const httpPort = await freePort();
    const doc = configDoc(broker.url, dir, [sim('sim-a', '100ms')], { health: { interval: '1s', http: `127.0.0.1:${httpPort}` } });
    const child = new ChildGateway(dir, doc);
    child.start();
    cleanup.push(async () => void (await child.kill('SIGTERM')));
    const health = async (): Promise<HealthPayload | undefined> => {
      try {
        return (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as HealthPayload;
      } catch {
        return undefined;
      }
    };
    let h: HealthPayload | undefined;
    await until(() => (void health().then((x) => (h = x)), (h?.devices['sim-a']?.readings ?? 0) > 5), 30_000, `the child gateway (${child.output})`);
    const readingsBefore = h!.devices['sim-a']!.readings;

    writeFileSync(child.configFile, stringify({ ...doc, devices: [sim('sim-a', '100ms'), sim('sim-b', '100ms')] }));
    process.kill(child.pid!, 'SIGHUP');
    await until(() => (void health().then((x) => (h = x)), h?.devices['sim-b'] !== undefined), 15_000, `sim-b after SIGHUP (${child.output})`);
    // Same process (uptime carries on) and sim-a's counters were not reset.
    expect(h!.devices['sim-a']!.readings).toBeGreaterThanOrEqual(readingsBefore);
    expect(await child.kill('SIGTERM')).toBe(0);
  });
});

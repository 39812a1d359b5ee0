/**
 * Downlink commands end to end over MQTT 3.1.1 (the embedded aedes broker): the real
 * Gateway with a Modbus TCP device (in-process slave) and a sim device, an operator
 * client sending `cmd/<name>` and reading `cmd/<name>/reply` and `events`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { ModbusTcpServer } from '../../../src/drivers/modbus/server/tcp-server.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';
import { startWithOperator, until, type Commander } from '../../helpers/commander.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

async function setup(commands: Record<string, unknown>): Promise<{ op: Commander; gw: Gateway; plc: ModbusTcpServer }> {
  const plc = new ModbusTcpServer();
  plc.slave(1).setRegisters('holding', 10, [7]);
  const plcPort = await plc.start(0);
  cleanup.push(() => plc.stop());
  const broker = new EmbeddedBroker();
  await broker.start();
  cleanup.push(() => broker.stop());
  const config = testConfig({
    url: broker.url,
    id: 'cmd-gw',
    devices: [
      simDevice('sim-1', '50ms', 1),
      {
        id: 'pump',
        driver: 'modbus',
        bus: 'plc',
        poll: '200ms',
        points: [
          { name: 'speed', table: 'holding', address: 10, type: 'uint16', writable: true },
          { name: 'limit', table: 'holding', address: 11, type: 'uint16', writable: true },
        ],
      },
    ],
    extra: { buses: { plc: { type: 'modbus-tcp', host: '127.0.0.1', port: plcPort } }, commands },
  });
  const gw = new Gateway(config);
  const op = await startWithOperator(gw, broker.url, 4, cleanup);
  return { op, gw, plc };
}

describe('downlink commands over MQTT 3.1.1 (aedes)', () => {
  it('answers every request on cmd/<name>/reply: ok, errors with reasons, duplicates not executed twice', async () => {
    const { op, plc } = await setup({
      allow: ['ping', 'health', 'restart_device', 'modbus_write'],
      writes: { pump: ['speed'] },
    });
    const ping = await op.request('ping', { id: 'p-1' });
    expect(ping).toMatchObject({ id: 'p-1', command: 'ping', ok: true, result: { pong: true } });

    // Bad payloads get an error, and the gateway keeps answering.
    const notJson = await op.request('ping', undefined, { raw: Buffer.from('{nope') });
    expect(notJson).toMatchObject({ id: null, ok: false });
    expect(notJson.error).toMatch(/not JSON/);
    expect(await op.request('ping', { args: {} })).toMatchObject({ id: null, ok: false, error: expect.stringMatching(/request id missing/) });
    expect(await op.request('ping', { id: 'p-2', args: [] })).toMatchObject({ ok: false, error: '"args" must be a JSON object' });

    // Allow-lists: the command, then the device and point.
    expect(await op.request('gpio_set', { id: 'g-1', args: { device: 'x', value: 1 } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not allowed on this gateway — list it under commands.allow/),
    });
    expect(await op.request('reboot', { id: 'r-1' })).toMatchObject({ ok: false, error: expect.stringMatching(/unknown command "reboot"/) });
    expect(await op.request('modbus_write', { id: 'w-0', args: { device: 'pump', point: 'limit', value: 3 } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/point "limit" of pump is not writable from the downlink/),
    });
    expect(plc.slave(1).holding[11]).toBe(0);

    // A write with verify reaches the slave.
    const w1 = await op.request('modbus_write', { id: 'w-1', args: { device: 'pump', point: 'speed', value: 1450 } });
    expect(w1).toMatchObject({ id: 'w-1', ok: true, result: { point: 'speed', value: 1450, verified: true } });
    expect(plc.slave(1).holding[10]).toBe(1450);

    // The same id again: the first answer, marked duplicate; the slave is not written again.
    plc.slave(1).setRegisters('holding', 10, [99]);
    const again = await op.request('modbus_write', { id: 'w-1', args: { device: 'pump', point: 'speed', value: 1450 } });
    expect(again).toMatchObject({ id: 'w-1', ok: true, duplicate: true, result: { verified: true } });
    expect(plc.slave(1).holding[10]).toBe(99);

    // A driver error comes back as the reason.
    const wrongType = await op.request('modbus_write', { id: 'w-2', args: { device: 'pump', point: 'speed', value: 'fast' } });
    expect(wrongType.ok).toBe(false);
    expect(wrongType.error).toMatch(/modbus_write on pump/);

    expect(await op.request('restart_device', { id: 'rd-1', args: { device: 'sim-1' } })).toMatchObject({ ok: true, result: { device: 'sim-1', restarted: true } });
    expect(await op.request('restart_device', { id: 'rd-2', args: { device: 'nope' } })).toMatchObject({ ok: false, error: expect.stringMatching(/no device "nope"/) });

    // Every executed command and its outcome reach `events`; of the refusals (not executed)
    // only the first of the window does: the rest are counted into one summary (refusals.test.ts).
    await until(() => op.events.some((e) => e.id === 'rd-2'), 10_000, 'command events');
    const byId = new Map(op.events.map((e) => [`${e.id}${e.duplicate ? '+dup' : ''}`, e]));
    expect(byId.get('w-1')).toMatchObject({ type: 'command', command: 'modbus_write', ok: true });
    expect(byId.get('w-0')).toMatchObject({ command: 'modbus_write', ok: false });
    expect(byId.get('w-2')).toMatchObject({ command: 'modbus_write', ok: false });
    expect(op.events.filter((e) => e.id === null)).toEqual([expect.objectContaining({ command: 'ping', ok: false, error: expect.stringMatching(/not JSON/) })]);
    expect(byId.get('w-1+dup')).toBeUndefined();
    expect(byId.get('g-1')).toBeUndefined();
  });

  it('rate-limits: requests past the limit are refused, not executed, and may be retried later', async () => {
    const { op, plc } = await setup({ allow: ['ping', 'modbus_write'], writes: { pump: '*' }, rate: { max: 3, per: '1m' } });
    for (let i = 0; i < 2; i++) expect((await op.request('ping', { id: `p-${i}` })).ok).toBe(true);
    const refused = await op.request('modbus_write', { id: 'w-late', args: { device: 'pump', point: 'limit', value: 5 } });
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/rate limited: at most 3 commands per 60s/) });
    expect(plc.slave(1).holding[11]).toBe(0);
    // Still limited: the refusal was not remembered as an answer for that id.
    expect((await op.request('modbus_write', { id: 'w-late', args: { device: 'pump', point: 'limit', value: 5 } })).duplicate).toBeUndefined();
  });

  it('health publishes the retained snapshot now', async () => {
    const { op, gw } = await setup({ allow: ['health'] });
    const got: unknown[] = [];
    op.client.on('message', (t, p) => {
      if (t === gw.topics.health) got.push(JSON.parse(p.toString()));
    });
    await op.client.subscribeAsync(gw.topics.health, { qos: 0 });
    const n = got.length;
    expect(await op.request('health', { id: 'h-1' })).toMatchObject({ ok: true, result: { published: true } });
    await until(() => got.length > n, 5000, 'a health message');
    expect(got.at(-1)).toMatchObject({ gateway: 'cmd-gw' });
  });
});

/**
 * What ops staff see: the retained `status` birth and last will, the periodic retained
 * `health` snapshot, `events`, and the local status page (/health, /metrics, /).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker, type BrokerMessage } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { simDevice, tempDir, testConfig } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';
import type { HealthPayload } from '../../../src/uplink/topics.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('status, health and events', () => {
  let broker: EmbeddedBroker | undefined;
  let gateway: Gateway | undefined;
  let child: ChildGateway | undefined;
  afterEach(async () => {
    await gateway?.stop();
    await child?.kill('SIGKILL');
    await broker?.stop();
    gateway = undefined;
    child = undefined;
    broker = undefined;
  });

  it('publishes a retained online status, periodic retained health, and offline on a clean stop', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const msgs: BrokerMessage[] = [];
    broker.onPublish((m) => msgs.push(m));
    const httpPort = await freePort();
    const config = testConfig({
      url: broker.url,
      health: { interval: '1s', http: `127.0.0.1:${httpPort}` },
      devices: [simDevice('ok-dev', '50ms', 2), { id: 'flaky', driver: 'sim', poll: '20ms', error_rate: 1, points: [{ name: 'x' }] }],
    });
    gateway = new Gateway(config);
    await gateway.start();
    const root = `citygate/${config.gateway.id}`;
    await until(() => msgs.some((m) => m.topic === `${root}/health`), 5000, 'a health message');
    const status = msgs.find((m) => m.topic === `${root}/status`)!;
    expect(status.retain).toBe(true);
    expect(JSON.parse(status.payload.toString())).toMatchObject({ state: 'online', version: expect.any(String), started: expect.any(Number) });

    // A loaded machine polls late: wait for the health snapshot that has seen three failures.
    const latestHealth = () => [...msgs].reverse().find((m) => m.topic === `${root}/health`)!;
    const flakyState = () => (JSON.parse(latestHealth().payload.toString()) as HealthPayload).devices['flaky']?.state;
    await until(() => flakyState() === 'down', 10_000, 'a health snapshot with the flaky device down');
    const healthMsg = latestHealth();
    expect(healthMsg.retain).toBe(true);
    const h = JSON.parse(healthMsg.payload.toString()) as HealthPayload;
    expect(h.uplink.state).toBe('online');
    expect(h.devices['ok-dev']?.state).toBe('ok');
    expect(h.devices['flaky']?.state).toBe('down');
    expect(h.devices['flaky']?.last_error).toMatch(/simulated fault/);
    expect(h.buffer).toMatchObject({ dropped: 0, next_seq: expect.any(Number) });
    expect(h.system).toHaveProperty('disk_free_bytes');

    // Events travel through the buffer and the uplink's lanes, the health snapshot does not: wait for them too.
    const eventsNow = () => msgs.filter((m) => m.topic === `${root}/events`).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
    await until(() => eventsNow().some((e) => e.type === 'device_state' && e.device === 'flaky' && e.to === 'down'), 10_000, 'the device_state event of the flaky device');
    const events = eventsNow();
    expect(events).toContainEqual(expect.objectContaining({ type: 'gateway_started' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'device_state', device: 'flaky', to: 'down' }));

    const page = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
    expect(page).toContain('flaky');
    const json = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as HealthPayload;
    expect(json.gateway).toBe(config.gateway.id);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/citygate_uplink_online 1/);
    expect(metrics).toMatch(/citygate_device_state\{device="flaky",state="down"\} 1/);

    await gateway.stop();
    gateway = undefined;
    const last = [...msgs].reverse().find((m) => m.topic === `${root}/status`)!;
    expect(JSON.parse(last.payload.toString())).toMatchObject({ state: 'offline' });
    expect(last.retain).toBe(true);
  });

  it('the last will says offline when the gateway is killed', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const statuses: string[] = [];
    broker.onPublish((m) => m.topic === 'citygate/will-gw/status' && statuses.push(JSON.parse(m.payload.toString()).state));
    const dir = tempDir();
    child = new ChildGateway(dir, {
      gateway: { id: 'will-gw', data_dir: dir },
      uplink: { url: broker.url, protocol_version: 4, keepalive: '5s' },
      health: { http: false },
      devices: [{ id: 's', driver: 'sim', poll: '1s', points: [{ name: 'p' }] }],
    });
    child.start();
    await until(() => statuses.includes('online'), 20_000, 'online status');
    await child.kill('SIGKILL');
    await until(() => statuses.at(-1) === 'offline', 20_000, 'the last will (1.5 × keepalive)');
  }, 60_000);
});

/**
 * NTP steps on a running gateway (libfaketime moves the child's wall clock only): a
 * +20 d step — a Pi booting from fake-hwclock after three weeks off — expires nothing,
 * a step back leaves no negative age, and the step is announced, also while the disk
 * is failing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { FakeTime } from '../../helpers/faketime.js';
import { SmallFs } from '../../helpers/small-fs.js';
import { freePort } from '../../helpers/net.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { libfaketime, need, root } from '../../helpers/needs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DAY = 86_400_000;

describe('wall-clock steps on a running gateway', () => {
  let child: ChildGateway | undefined;
  let broker: EmbeddedBroker | undefined;
  let fs: SmallFs | undefined;
  afterEach(async () => {
    await child?.kill('SIGKILL');
    await broker?.stop();
    fs?.unmount();
    child = broker = fs = undefined;
  });

  async function run(dataDir: string, httpPort: number) {
    const port = await freePort();
    const ft = new FakeTime();
    child = new ChildGateway(tempDir(), {
      gateway: { id: 'ntp-gw', data_dir: dataDir },
      uplink: { url: `mqtt://127.0.0.1:${port}`, protocol_version: 4, reconnect: { min: '200ms', max: '1s' } },
      buffer: { max_age: '1m', commit_max: 200 },
      health: { http: `127.0.0.1:${httpPort}`, interval: '1s' },
      devices: [{ id: 'd', driver: 'sim', poll: '20ms', points: [{ name: 'p', wave: 'counter', replicas: 5 }] }],
    });
    child.start({ env: ft.env(), logLevel: 'info' });
    await child.waitForOutput(/gateway started/);
    return { port, ft };
  }

  async function health(httpPort: number): Promise<{ buffer: { oldest_age_s: number | null; dropped: number } }> {
    const r = await fetch(`http://127.0.0.1:${httpPort}/health`);
    return (await r.json()) as { buffer: { oldest_age_s: number | null; dropped: number } };
  }

  it('+20 d expires nothing as max_age; a step back leaves no negative age; both steps announced', async (ctx) => {
    need(ctx, libfaketime());
    const httpPort = await freePort();
    const { port, ft } = await run(join(tempDir(), 'data'), httpPort);
    await sleep(2000);
    ft.set('+20d');
    await sleep(8000); // past an expiry tick (every 6 s for max_age 1m)
    let h = await health(httpPort);
    expect(h.buffer.dropped).toBe(0);
    expect(h.buffer.oldest_age_s).toBeLessThan(60);
    ft.set('-20d');
    await sleep(2000);
    h = await health(httpPort);
    expect(h.buffer.oldest_age_s).toBeGreaterThanOrEqual(0);
    broker = new EmbeddedBroker('127.0.0.1', port);
    const seen = new SeqCollector('citygate/ntp-gw');
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    await broker.start();
    await seen.waitFor(() => seen.events.filter((e) => e.type === 'clock_step').length >= 2, 30_000, 'two clock_step events');
    const steps = seen.events.filter((e) => e.type === 'clock_step');
    expect(steps[0]).toMatchObject({ type: 'clock_step' });
    expect(Math.abs((steps[0] as { offset_ms: number }).offset_ms - 20 * DAY)).toBeLessThan(60_000);
    expect(seen.events.some((e) => e.type === 'buffer_dropped')).toBe(false);
    const last = seen.max;
    await seen.waitFor(() => seen.missing(1, last).length === 0, 20_000, 'every seq (nothing expired)');
  }, 90_000);

  it('a step while the disk is failing is still announced', async (ctx) => {
    need(ctx, libfaketime(), root('the test mounts a small tmpfs and fills it'));
    fs = new SmallFs(3 * 1024 * 1024).mount();
    const httpPort = await freePort();
    const { port, ft } = await run(fs.dir, httpPort);
    await sleep(1000);
    fs.fill();
    await child!.waitForOutput(/commit failed|disk: (full|low)|buffer full/, 30_000); // the disk is full: commits fail or make room by dropping
    ft.set('+3d');
    await sleep(1500);
    broker = new EmbeddedBroker('127.0.0.1', port);
    const seen = new SeqCollector('citygate/ntp-gw');
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    await broker.start();
    await seen.waitFor(() => seen.events.some((e) => e.type === 'clock_step'), 30_000, 'the clock_step event while the disk is full');
    expect(child!.alive).toBe(true);
  }, 90_000);
});

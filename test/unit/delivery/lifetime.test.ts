/**
 * The service lives until it is told to stop, one gateway owns a data_dir, and
 * startup is supervised — tried as systemd runs it: `citygate run` as a child process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { cli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gw(dir: string, url: string, devices: unknown[] = [{ id: 's', driver: 'sim', poll: '100ms', points: [{ name: 'x' }] }], id = 'life-gw') {
  return new ChildGateway(dir, {
    gateway: { id, data_dir: join(dir, 'data') },
    uplink: { url, protocol_version: 4, reconnect: { min: '200ms', max: '1s' } },
    health: { http: false, interval: '1s' },
    devices,
  });
}

describe('service lifetime', () => {
  const children: ChildGateway[] = [];
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill('SIGKILL');
    await broker?.stop();
    broker = undefined;
  });

  it('lives with no broker and no status page until SIGTERM, then exits 0 saying why', async () => {
    const dir = tempDir();
    const c = gw(dir, `mqtt://127.0.0.1:${await freePort()}`);
    children.push(c);
    c.start({ logLevel: 'info' });
    await c.waitForOutput(/gateway started/);
    await sleep(3000);
    expect(c.alive, c.output).toBe(true);
    expect(await c.kill('SIGTERM')).toBe(0);
    expect(c.output).toMatch(/stopped by SIGTERM \(exit 0\)/);
    expect(c.output).toMatch(/gateway stopped: \d+ readings wait in the buffer/);
  }, 30_000);

  it('lives on after its broker dies mid-run', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    let seen = 0;
    broker.onPublish((m) => m.topic.includes('/data/') && seen++);
    const c = gw(tempDir(), broker.url);
    children.push(c);
    c.start();
    for (let i = 0; i < 100 && seen === 0; i++) await sleep(100);
    expect(seen).toBeGreaterThan(0);
    await broker.stop();
    broker = undefined;
    await sleep(3000);
    expect(c.alive, c.output).toBe(true);
    expect(await c.kill('SIGTERM')).toBe(0);
  }, 30_000);

  it('a second gateway on the same data_dir exits 1 naming the pid that holds it; queue stats still reads beside it', async () => {
    const dir = tempDir();
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const first = gw(dir, url);
    children.push(first);
    first.start({ logLevel: 'info' });
    await first.waitForOutput(/gateway started/);
    const second = gw(dir, url);
    children.push(second);
    second.start();
    expect(await second.exited).toBe(1);
    expect(second.output).toContain(`in use by pid ${first.pid}`);
    expect(second.output).not.toMatch(/\n\s+at /); // no stack trace
    const stats = await cli(['queue', 'stats', '--json', '--config', first.configFile]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toHaveProperty('next_seq');
    const purge = await cli(['queue', 'purge', '--yes', '--config', first.configFile]);
    expect(purge.code).toBe(1);
    expect(purge.stderr).toContain(`in use by pid ${first.pid}`);
    expect(first.alive).toBe(true);
  }, 90_000);

  it('a driver crashing while another is still starting restarts alone; a hung start is timed out', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const byDevice = new Map<string, number>();
    broker.onPublish((m) => {
      const dev = /\/data\/(.+)$/.exec(m.topic)?.[1];
      if (dev) byDevice.set(dev, (byDevice.get(dev) ?? 0) + 1);
    });
    const c = gw(tempDir(), broker.url, [
      { id: 'crashy', driver: 'sim', poll: '20ms', crash_after: '50ms', points: [{ name: 'x' }] },
      { id: 'slow', driver: 'sim', poll: '50ms', start_delay: '2s', points: [{ name: 'y' }] },
      { id: 'hung', driver: 'sim', poll: '50ms', start_delay: '1h', points: [{ name: 'z' }] },
    ]);
    children.push(c);
    c.start({ logLevel: 'info' });
    await c.waitForOutput(/device crashy: uncaught exception in its driver/, 20_000);
    for (let i = 0; i < 150 && !(byDevice.get('slow') ?? 0); i++) await sleep(100);
    expect(byDevice.get('slow') ?? 0, c.output).toBeGreaterThan(0);
    await c.waitForOutput(/device hung: driver failed: start\(\) did not finish within 30s/, 45_000);
    expect(c.alive).toBe(true);
    expect(c.output).not.toMatch(/\n\s+at /);
    expect(await c.kill('SIGTERM')).toBe(0);
  }, 120_000);
});

/**
 * Disk full is a state, not a crash: a gateway whose data_dir is on a real, small file
 * system (a tmpfs the test mounts; root needed) with the broker away. Every seq is then
 * either delivered or announced; nothing crashes; max_bytes bounds every file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { cli } from '../../helpers/cli.js';
import { join } from 'node:path';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { SmallFs } from '../../helpers/small-fs.js';
import { freePort } from '../../helpers/net.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { need, root } from '../../helpers/needs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (f.startsWith('filler')) continue;
    try {
      n += statSync(join(dir, f)).size;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/** A sim device producing readings that do not compress to nothing. */
const noisy = (id: string) => ({ id, driver: 'sim', poll: '10ms', seed: 7, points: [{ name: 'w', wave: 'random_walk', min: 0, max: 1e6, step: 977.3, replicas: 40 }] });

describe('disk full', () => {
  let fs: SmallFs | undefined;
  let child: ChildGateway | undefined;
  let broker: EmbeddedBroker | undefined;
  beforeEach((ctx) => need(ctx, root('disk-full tests mount a small tmpfs and fill it')));
  afterEach(async () => {
    await child?.kill('SIGKILL');
    await broker?.stop();
    fs?.unmount();
    child = broker = fs = undefined;
  });

  it('validate warns (with the position) when max_bytes is more than the data_dir can hold; --strict makes it an error', async () => {
    fs = new SmallFs(4 * MiB).mount();
    const file = join(tempDir(), 'gateway.yaml');
    writeFileSync(file, `gateway: { id: v-gw, data_dir: ${fs.dir}/data }\nuplink: { url: "mqtt://127.0.0.1:1883" }\nbuffer: { max_bytes: 64MiB }\ndevices: [ { id: s, driver: sim, poll: 1s, points: [ { name: x } ] } ]\n`);
    const r = await cli(['validate', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/gateway\.yaml:3:\d+: buffer\.max_bytes: buffer\.max_bytes \(64 MiB\) is more than .* can hold on this machine \(\d\.\d MiB free\): the buffer will keep to about/);
    const strict = await cli(['validate', '--strict', file]);
    expect(strict.code).toBe(1);
  }, 60_000);

  it('max_bytes bounds everything the buffer puts on disk (database, WAL, shm, ledger, reserve)', async () => {
    fs = new SmallFs(8 * MiB).mount();
    child = new ChildGateway(tempDir(), {
      gateway: { id: 'disk-gw', data_dir: fs.dir },
      uplink: { url: `mqtt://127.0.0.1:${await freePort()}`, protocol_version: 4 },
      buffer: { max_bytes: '1MiB' },
      health: { http: false },
      devices: [noisy('n')],
    });
    child.start();
    let most = 0;
    let drops = false;
    for (let i = 0; i < 200; i++) {
      await sleep(100);
      most = Math.max(most, dirBytes(fs.dir));
      if (i % 20 === 0 && /buffer full/.test(child.output)) drops = true;
      if (drops && i > 80) break;
    }
    expect(child.alive, child.output).toBe(true);
    expect(most).toBeGreaterThan(0.5 * MiB); // it did fill up to the limit …
    expect(most).toBeLessThanOrEqual(1 * MiB); // … and never past it
    expect(await child.kill('SIGTERM')).toBe(0);
  }, 60_000);

  it('a full disk: the gateway keeps running, restarts on the full disk, drains, and every seq is delivered or announced', async () => {
    fs = new SmallFs(3 * MiB).mount();
    const port = await freePort();
    const conf = {
      gateway: { id: 'full-gw', data_dir: fs.dir },
      uplink: { url: `mqtt://127.0.0.1:${port}`, protocol_version: 4, reconnect: { min: '200ms', max: '1s' }, batch: { max_readings: 200, max_delay: '50ms' } },
      // far more than the disk has: free space is the limit; a small commit_max makes the
      // readings waiting in memory overflow quickly once commits fail
      buffer: { max_bytes: '256MiB', commit_max: 500 },
      health: { http: false },
      devices: [noisy('n')],
    };
    child = new ChildGateway(tempDir(), conf);
    child.start({ logLevel: 'info' });
    await child.waitForOutput(/gateway started/);
    await sleep(2000);
    fs.fill(); // someone else's file takes every last byte
    await sleep(4000);
    expect(child.alive, child.output).toBe(true);
    // It says so: the disk state, a failing commit, or the drops it made room with.
    await child.waitForOutput(/disk: (full|low)|commit failed|buffer full/, 20_000);
    // Errors are rate-limited: not one line per 100 ms retry.
    expect((child.output.match(/commit failed/g) ?? []).length).toBeLessThanOrEqual(3);
    // kill -9 on the full disk, and start again on it.
    await child.kill('SIGKILL');
    child.start({ logLevel: 'info' });
    await child.waitForOutput(/gateway started[^]*gateway started/, 30_000); // the second start, on the full disk
    await sleep(1500);
    expect(child.alive, child.output).toBe(true);
    // The broker comes back, the disk is freed: everything drains.
    broker = new EmbeddedBroker('127.0.0.1', port);
    const seen = new SeqCollector('citygate/full-gw');
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    await broker.start();
    fs.unfill();
    await seen.waitFor(() => seen.max > 0, 30_000, 'first delivery');
    expect(await child.kill('SIGTERM')).toBe(0);
    child.start();
    await sleep(1000);
    const last = seen.max;
    await seen.waitFor(() => seen.unexplained(1, last).length === 0, 30_000, 'every seq delivered or announced');
    expect(seen.conflicts).toEqual([]);
    const kinds = new Set(seen.events.map((e) => (e.type === 'buffer_dropped' ? `dropped:${e.reason}` : e.type)));
    // Free space, not max_bytes, limited this buffer: every drop says disk_full.
    expect([...kinds].filter((k) => k.startsWith('dropped:')), 'readings that did not fit on the disk are announced as disk_full').toEqual(['dropped:disk_full']);
  }, 120_000);
});

/** docs/field-notes.md#sd-notify-needs-libsystemd: readiness and the watchdog without the native sd-notify package. */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notifyReady, startWatchdog } from '../../../src/runtime/sd-notify.js';
import { silentLogger } from '../../../src/core/log.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

/** A fake systemd-notify on PATH that appends its arguments to a file. */
function fakeNotify(): { env: NodeJS.ProcessEnv; lines: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'cg-sd-'));
  const out = join(dir, 'args');
  writeFileSync(join(dir, 'systemd-notify'), `#!/bin/sh\necho "$@ $NOTIFY_SOCKET" >> ${out}\n`);
  chmodSync(join(dir, 'systemd-notify'), 0o755);
  return {
    env: { PATH: `${dir}:${process.env.PATH}`, NOTIFY_SOCKET: '/run/systemd/notify' },
    lines: () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n') : []),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `pred` holds. */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !pred() && Date.now() < end; ) await sleep(20);
  expect(pred()).toBe(true);
}

describe('systemd readiness', () => {
  it('calls systemd-notify --ready when systemd started us, and nothing otherwise', async () => {
    const fake = fakeNotify();
    expect(await notifyReady(silentLogger(), fake.env)).toBe(true);
    expect(fake.lines()).toEqual([`--ready --pid=${process.pid} /run/systemd/notify`]);
    expect(await notifyReady(silentLogger(), { PATH: fake.env.PATH })).toBe(false);
  });

  it('does not depend on the native sd-notify package (npm install must work without libsystemd)', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8'));
    const all = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
    expect(Object.keys(all)).not.toContain('sd-notify');
  });
});

describe('systemd watchdog', () => {
  it('pings every third of WATCHDOG_USEC while alive, stops while not, resumes after', async () => {
    const fake = fakeNotify();
    let reason: string | undefined;
    const wd = startWatchdog({ log: silentLogger(), alive: () => reason, env: { ...fake.env, WATCHDOG_USEC: '600000' } });
    expect(wd?.intervalMs).toBe(200);
    try {
      await until(() => fake.lines().length >= 2);
      expect(fake.lines()[0]).toBe(`WATCHDOG=1 --pid=${process.pid} /run/systemd/notify`);
      reason = 'buffer commits failing: disk full';
      await sleep(250); // a ping already forked may still land
      const held = fake.lines().length;
      await sleep(700); // more than three intervals
      expect(fake.lines().length).toBe(held);
      reason = undefined;
      await until(() => fake.lines().length > held);
    } finally {
      wd?.stop();
    }
  });

  it('does nothing when systemd asked for no watchdog, or for another process', () => {
    const fake = fakeNotify();
    const alive = () => undefined;
    expect(startWatchdog({ log: silentLogger(), alive, env: fake.env })).toBeUndefined();
    expect(startWatchdog({ log: silentLogger(), alive, env: { ...fake.env, WATCHDOG_USEC: '600000', WATCHDOG_PID: '1' } })).toBeUndefined();
    expect(startWatchdog({ log: silentLogger(), alive, env: { PATH: fake.env.PATH, WATCHDOG_USEC: '600000' } })).toBeUndefined();
  });

  it('a gateway with no broker is alive; one whose buffer cannot commit is not', async () => {
    const port = await freePort();
    const gw = new Gateway(testConfig({ url: `mqtt://127.0.0.1:${port}`, devices: [simDevice('sim-1', '10ms', 2)] }));
    await gw.start();
    try {
      await until(() => gw.buffer.stats().readings > 0);
      expect(gw.uplink.stats().state).not.toBe('online');
      expect(gw.liveness()).toBeUndefined();
      gw.buffer.close(); // every later commit throws, as on a dead card
      await until(() => gw.liveness() !== undefined);
      expect(gw.liveness()).toMatch(/^buffer commits failing: /);
    } finally {
      await Promise.allSettled(gw.devices.map((d) => d.supervisor.stop()));
      gw.committer.stop();
      await gw.uplink.stop(0);
    }
  });
});

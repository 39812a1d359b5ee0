/**
 * A broker whose ACL refuses the gateway's data (MQTT 5 PUBACK 0x87) while the link is fine:
 * the readings stay in the buffer, the connection stays up for command replies and health
 * (it used to be dropped and redialled on every refusal, a loop in which replies stalled),
 * the refusal is named with its topic and reason, and once the ACL is fixed every seq
 * arrives: nothing was deleted that the broker had not accepted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/runtime/gateway.js';
import { simDevice, tempDir, testConfig } from '../helpers/gateway-config.js';
import { Mosquitto, closeClient } from '../helpers/mosquitto.js';
import { startWithOperator, until } from '../helpers/commander.js';
import { SeqCollector } from '../helpers/seq-collector.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

/** The gateway may write everything under its root but data, unless `data` is true. */
const acl = (data: boolean): string =>
  [
    'user acl-gw',
    ...['status', 'health', 'events', 'cmd/#'].map((t) => `topic write citygate/acl-gw/${t}`),
    ...(data ? ['topic write citygate/acl-gw/data/#'] : []),
    'topic read citygate/acl-gw/cmd/+',
    'user operator',
    'topic readwrite citygate/#',
    '',
  ].join('\n');

describe('a broker that refuses data (MQTT 5, Mosquitto ACL)', () => {
  it('keeps the link for replies, names the refusal, and delivers every seq once the ACL allows it', async () => {
    const aclFile = join(tempDir('cg-acl-'), 'acl');
    writeFileSync(aclFile, acl(false));
    const broker = new Mosquitto({ users: { 'acl-gw': 'gw-secret', operator: 'op-secret' }, extra: [`acl_file ${aclFile}`] });
    await broker.start();
    cleanup.push(() => broker.stop());

    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, username: 'operator', password: 'op-secret', reconnectPeriod: 0 });
    cleanup.push(() => closeClient(watcher));
    const seen = new SeqCollector('citygate/acl-gw');
    watcher.on('message', (t, p) => seen.add(t, p));
    await watcher.subscribeAsync('citygate/acl-gw/#', { qos: 1 });

    const gw = new Gateway(
      testConfig({
        url: broker.url,
        id: 'acl-gw',
        protocolVersion: 5,
        devices: [simDevice('sim-1', '50ms', 1)],
        uplink: { username: 'acl-gw', password: 'gw-secret' },
        extra: { commands: { allow: ['ping'] } },
      }),
    );
    const op = await startWithOperator(gw, broker.url, 5, cleanup, { username: 'operator', password: 'op-secret' });
    await until(() => /refused data on citygate\/acl-gw\/data\/sim-1: not authorized \(0x87\)/.test(gw.uplink.stats().lastError ?? ''), 10_000, 'the refusal named');

    // Within the first hold (5 s) the link stays up: every ping is answered, no reconnect.
    const reconnects = gw.uplink.stats().reconnects;
    for (let i = 0; i < 5; i++) {
      expect(await op.request('ping', { id: `p-${i}` }, { timeoutMs: 3000 })).toMatchObject({ ok: true });
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(gw.uplink.stats().reconnects).toBe(reconnects);
    expect(seen.seqs).toEqual([]);
    expect(gw.health().buffer.readings).toBeGreaterThan(20);

    // The operator fixes the ACL: the held readings go out at the next try, none missing.
    writeFileSync(aclFile, acl(true));
    broker.reload();
    await until(() => gw.health().buffer.readings === 0 && seen.seqs.length > 0, 30_000, 'the buffer drained');
    const max = Math.max(...seen.seqs);
    const got = new Set(seen.seqs);
    const missing = Array.from({ length: max }, (_, i) => i + 1).filter((s) => !got.has(s));
    expect(missing).toEqual([]);
    expect(seen.conflicts).toEqual([]);
  }, 60_000);
});

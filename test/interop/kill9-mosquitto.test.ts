/**
 * kill -9 of a gateway child process (`citygate run`, as systemd runs it) during a
 * burst, against a real Mosquitto and a persistent upstream subscriber, then a
 * restart on the same data dir: every committed reading arrives (no gap in seq), in
 * order per device, and no seq is ever given to two readings. MQTT 3.1.1 and 5.
 * The aedes version is test/unit/delivery/kill9.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ChildGateway } from '../helpers/child-gateway.js';
import { SeqCollector } from '../helpers/seq-collector.js';
import { tempDir } from '../helpers/gateway-config.js';
import { Mosquitto, closeClient, persistentSubscriber } from '../helpers/mosquitto.js';
import { SqliteBuffer } from '../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../src/core/clock.js';

/** The next seq the gateway in `dir` would assign: everything below it was committed. */
function committedNextSeq(dir: string): number {
  const b = new SqliteBuffer({
    dataDir: dir,
    maxBytes: 1 << 30,
    maxAgeMs: 86_400_000,
    onFull: 'drop_oldest',
    synchronous: 'full',
    maxReadingsPerRow: 100,
    clock: systemClock,
  });
  try {
    return b.stats().nextSeq;
  } finally {
    b.close();
  }
}

describe('kill -9 of a gateway process during a burst, Mosquitto upstream', () => {
  let broker: Mosquitto | undefined;
  let child: ChildGateway | undefined;
  let sub: MqttClient | undefined;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      if (child) console.error(`gateway output:\n${child.output.slice(-4000)}`);
      if (broker) console.error(`mosquitto log:\n${broker.logTail(40)}`);
    }
    await child?.kill('SIGKILL');
    await closeClient(sub);
    await broker?.stop();
    child = undefined;
    sub = undefined;
    broker = undefined;
  });

  for (const pv of [4, 5] as const) {
    it(`loses nothing committed and never reuses a seq (MQTT ${pv === 4 ? '3.1.1' : '5'})`, async () => {
      broker = new Mosquitto();
      await broker.start();
      const id = `kill9-mosq-v${pv}`;
      const root = `citygate/${id}`;
      const seen = new SeqCollector(root);
      sub = await persistentSubscriber(broker.url, {
        clientId: `upstream-${id}`,
        protocolVersion: pv,
        topics: [`${root}/data/+`],
        onMessage: (t, p) => seen.add(t, p),
      });
      const dir = tempDir();
      child = new ChildGateway(dir, {
        gateway: { id, data_dir: dir },
        uplink: {
          url: broker.url,
          protocol_version: pv,
          reconnect: { min: '100ms', max: '300ms' },
          batch: { max_readings: 100, max_delay: '20ms' },
        },
        buffer: { commit_interval: '20ms' },
        health: { http: false },
        devices: [
          { id: 'burst', driver: 'sim', poll: '1ms', points: [{ name: 'p', wave: 'counter', replicas: 20 }] },
          { id: 'slow', driver: 'sim', poll: '50ms', points: [{ name: 'q', wave: 'counter', replicas: 2 }] },
        ],
      });

      child.start();
      await seen.waitFor(() => seen.unique.size > 5000, 30_000, 'a burst to be flowing');
      expect(await child.kill('SIGKILL')).toBe('SIGKILL');
      const nextSeq = committedNextSeq(dir);
      expect(nextSeq).toBeGreaterThan(seen.max); // nothing is published before it is committed

      child.start();
      await seen.waitFor(() => seen.max > nextSeq + 5000, 30_000, 'the restarted gateway to publish');
      expect(await child.kill('SIGTERM')).toBe(0); // graceful: flush, drain, offline status
      const last = committedNextSeq(dir) - 1;
      await seen.waitFor(() => seen.missing(1, last).length === 0, 15_000, `every committed seq up to ${last}`);

      expect(seen.missing(1, last).slice(0, 20)).toEqual([]);
      expect(seen.orderViolations()).toEqual([]);
      expect(seen.conflicts).toEqual([]);
      expect(seen.byDevice.size).toBe(2);
      expect(last).toBeGreaterThan(nextSeq); // seq carried on after the kill, never reused
      expect(broker.log().match(new RegExp(`New client connected .* as citygate-${id}`, 'g'))?.length).toBe(2);
    });
  }
});

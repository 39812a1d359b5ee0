/**
 * The broker is down while the buffer fills past max_bytes: the oldest readings are
 * dropped, an `events` message names exactly the dropped seq ranges, and everything
 * else arrives once the broker is back. Loss is bounded and never silent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { testConfig } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('buffer overflow while the broker is down', () => {
  let gateway: Gateway | undefined;
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await gateway?.stop();
    await broker?.stop();
  });

  for (const policy of ['drop_oldest', 'reject_newest'] as const) {
    it(`${policy}: accounts for every seq — delivered or reported`, async () => {
      const port = await freePort();
      const config = testConfig({
        url: `mqtt://127.0.0.1:${port}`,
        buffer: { max_bytes: '1MiB', on_full: policy },
        // values that do not compress to nothing, so 1 MiB (the floor) fills in seconds
        devices: [{ id: 'fill', driver: 'sim', poll: '2ms', seed: 3, points: [{ name: 'w', wave: 'random_walk', min: 0, max: 1e9, step: 12345.678, replicas: 40 }] }],
      });
      gateway = new Gateway(config);
      await gateway.start();
      const stats = () => gateway!.buffer.stats();
      const lost = () => (policy === 'drop_oldest' ? stats().droppedTotal : stats().rejectedTotal);
      const deadline = Date.now() + 30_000;
      while (lost() < 2000 && Date.now() < deadline) await sleep(50);
      // The premise of the test: the limit really was hit, thousands of times.
      expect(lost(), `${policy}: the buffer never overflowed`).toBeGreaterThanOrEqual(2000);
      for (const d of gateway.devices) await d.supervisor.stop();
      gateway.committer.flush();
      const last = stats().nextSeq - 1;
      expect(stats().fileBytes).toBeLessThanOrEqual(1024 * 1024);

      const seen = new SeqCollector(`citygate/${config.gateway.id}`);
      broker = new EmbeddedBroker('127.0.0.1', port);
      broker.onPublish((m) => seen.add(m.topic, m.payload));
      await broker.start();
      await seen.waitFor(() => stats().readings === 0 && stats().pendingEvents === 0, 20_000, 'buffer and events drained');

      if (policy === 'drop_oldest') {
        const drops = seen.events.filter((e) => e.type === 'buffer_dropped');
        expect(drops.length).toBeGreaterThan(0);
        const dropped = new Set<number>();
        for (const e of drops) {
          expect(e.reason).toBe('max_bytes');
          expect(e.count).toBe(e.last_seq - e.first_seq + 1);
          for (let s = e.first_seq; s <= e.last_seq; s++) dropped.add(s);
        }
        // The oldest went: every dropped seq is below every delivered one.
        expect(Math.max(...dropped)).toBeLessThan(Math.min(...seen.unique));
        for (const s of seen.unique) expect(dropped.has(s)).toBe(false);
        expect(dropped.size + seen.unique.size).toBe(last);
        expect(seen.missing(1, last).filter((s) => !dropped.has(s))).toEqual([]);
      } else {
        const rejects = seen.events.filter((e) => e.type === 'buffer_rejected');
        expect(rejects.length).toBeGreaterThan(0);
        expect(rejects.reduce((n, e) => n + e.count, 0)).toBe(stats().rejectedTotal);
        expect(stats().rejectedTotal).toBeGreaterThanOrEqual(2000);
        // Rejected readings never got a seq: what was accepted arrives whole.
        expect(seen.missing(1, last)).toEqual([]);
      }
      expect(seen.orderViolations()).toEqual([]);
    }, 60_000);
  }
});

/**
 * The outage a gateway reports when it is back (`uplink online again after Ns`,
 * `offline_s`) is measured from the moment the link went down — also when the
 * reconnect only probes (TCP) while the broker is away and makes its MQTT attempt
 * once the broker answers again. A real broker (aedes) on a fixed free port is
 * stopped for several seconds and started again.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { createLogger } from '../../../src/core/log.js';
import { freePort } from '../../helpers/net.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

describe('offline duration after a broker outage', () => {
  let gateway: Gateway | undefined;
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await gateway?.stop();
    await broker?.stop();
    gateway = broker = undefined;
  });

  it('a broker stopped for ~8 s: "online again after" and offline_s say so, not 0', { timeout: 60_000 }, async () => {
    const port = await freePort();
    broker = new EmbeddedBroker('127.0.0.1', port);
    await broker.start();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const log = createLogger({ level: 'info', pretty: false, destination: sink });
    // probe 1s: while the broker is away the redialer only probes, then connects once it answers.
    const config = testConfig({ id: 'outage-gw', url: `mqtt://127.0.0.1:${port}`, devices: [simDevice('a', '100ms', 1)], uplink: { reconnect: { min: '200ms', max: '1s', probe: '1s' } } });
    gateway = new Gateway(config, { log });
    await gateway.start();
    await until('online', () => gateway!.uplink.stats().state === 'online', 10_000);

    await broker.stop();
    const downAt = performance.now();
    await until('offline', () => gateway!.uplink.stats().state !== 'online', 10_000);
    await sleep(8000);
    broker = new EmbeddedBroker('127.0.0.1', port);
    await broker.start();
    const outageS = (performance.now() - downAt) / 1000;
    await until('online again', () => lines.some((l) => String(l.msg).startsWith('uplink online again')), 30_000);

    const again = lines.find((l) => String(l.msg).startsWith('uplink online again'))!;
    const offline = Number(again.offline_s);
    expect(again.msg).toMatch(new RegExp(`^uplink online again after ${offline}s`));
    // At least the time the broker was away (rounded), at most that plus the reconnect's waits.
    expect(offline).toBeGreaterThanOrEqual(Math.floor(outageS) - 1);
    expect(offline).toBeLessThan(outageS + 20);
  });
});

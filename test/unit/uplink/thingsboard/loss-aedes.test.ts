/**
 * Loss stays visible in ThingsBoard: readings a gateway accepted and then lost (its buffer
 * database deleted while it was down) are announced on the gateway device's timeline with
 * the seq range, as ThingsBoard's documented device telemetry, and the readings after them
 * carry seqs above that range (never reused). The client is the one written from
 * ThingsBoard's documentation (test/helpers/thingsboard-client.ts), on aedes.
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../../src/runtime/gateway.js';
import { simDevice, tempDir, testConfig } from '../../../helpers/gateway-config.js';
import { until } from '../../../helpers/commander.js';
import { freePort } from '../../../helpers/net.js';
import { ThingsboardPlatform } from '../../../helpers/thingsboard-client.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

describe('ThingsBoard dialect: loss announcements', () => {
  it('a lost buffer is announced on the gateway with its seq range; later telemetry starts above it', async () => {
    const dataDir = tempDir();
    const config = (url: string) => testConfig({ url, id: 'loss-gw', dataDir, devices: [simDevice('sim-1', '20ms', 2)], uplink: { dialect: 'thingsboard' } });

    // 1. No broker: readings are accepted into the buffer and wait there.
    const nowhere = `mqtt://127.0.0.1:${await freePort()}`;
    const first = new Gateway(config(nowhere));
    await first.start();
    await until(() => first.buffer.stats().readings >= 40, 10_000, 'readings in the buffer');
    await first.stop();
    // 2. The buffer database is lost while the gateway is down (the seq ledger survives).
    for (const f of readdirSync(dataDir)) if (f.startsWith('buffer.db')) unlinkSync(join(dataDir, f));

    // 3. Back up, with a broker and ThingsBoard's side listening.
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    const tb = await ThingsboardPlatform.start(broker.url, 4);
    cleanup.push(() => tb.close());
    const second = new Gateway(config(broker.url));
    await second.start();
    cleanup.push(() => second.stop());

    const loss = () => tb.seen.find((s) => s.kind === 'me_telemetry' && s.values.citygate_loss_kind === 'lost');
    await until(() => loss() !== undefined && tb.telemetry('loss-gw.sim-1').length >= 3, 15_000, 'the loss announcement and fresh telemetry');
    const v = (loss() as { values: Record<string, unknown> }).values;
    expect(v).toMatchObject({ citygate_event: 'buffer_lost', citygate_loss_reason: 'database_missing', citygate_event_body: { type: 'buffer_lost', reason: 'database_missing' } });
    const lostFirst = v.citygate_loss_first_seq as number;
    const lostLast = v.citygate_loss_last_seq as number;
    expect(v.citygate_loss_count).toBe(lostLast - lostFirst + 1);
    // Everything the first run accepted (at least 40 readings, from seq 1) is inside the announced range.
    expect(lostFirst).toBe(1);
    expect(lostLast).toBeGreaterThanOrEqual(40);
    // Fresh readings never reuse a lost seq.
    for (const e of tb.telemetry('loss-gw.sim-1')) expect(e.values.citygate_seq as number).toBeGreaterThan(lostLast);
    expect(tb.violations).toEqual([]);
  });
});

/**
 * A burst of 1,000 command requests against the real Gateway on the embedded aedes
 * broker: the ones within the rate limit are executed and answered, the refused ones
 * cost one `command` event and one log line (the first), one `command_refusals`
 * summary (here: when the gateway stops, which ends the window) and at most 20 replies.
 * Counted at the broker (everything the gateway publishes) and in its JSON log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { createLogger } from '../../../src/core/log.js';
import { REFUSAL_REPLIES_PER_WINDOW } from '../../../src/commands/refusals.js';
import type { CommandDispatcher } from '../../../src/commands/dispatcher.js';
import { simDevice, testConfig } from '../../helpers/gateway-config.js';
import { commander, until } from '../../helpers/commander.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

describe('a burst of 1,000 command requests (aedes)', () => {
  it('executes and answers those within the rate limit; the refusals cost one event, one summary, two log lines and 20 replies', async () => {
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const config = testConfig({ url: broker.url, id: 'burst-gw', devices: [simDevice('sim-1', '200ms', 1)], extra: { commands: { allow: ['ping'], rate: { max: 30, per: '1m' } } } });
    const gw = new Gateway(config, { log: createLogger({ pretty: false, destination, level: 'info' }) });
    const op = await commander(broker.url, gw.topics.root, 4);
    cleanup.push(() => op.close());
    await gw.start();
    let stopped = false;
    cleanup.push(() => (stopped ? undefined : gw.stop()));
    await until(() => gw.uplink.stats().state === 'online', 10_000, 'uplink online');
    await op.ready();
    const readyPings = op.replies.length;

    // From here on: what the gateway publishes on events and replies, and its command log lines.
    const published = { events: [] as Record<string, unknown>[], replies: [] as Record<string, unknown>[] };
    broker.onPublish((m) => {
      // aedes may report the readiness ping's reply and event after the operator already had
      // its answer: only the burst counts here (the ready pings are in readyPings).
      if (m.topic === `${gw.topics.root}/events`) {
        const ev = JSON.parse(m.payload.toString()) as Record<string, unknown>;
        if (!String(ev.id).startsWith('ready-')) published.events.push(ev);
      }
      else if (m.topic.startsWith(`${gw.topics.root}/cmd/`) && m.topic.endsWith('/reply')) {
        const reply = JSON.parse(m.payload.toString()) as Record<string, unknown>;
        if (!String(reply.id).startsWith('ready-')) published.replies.push(reply);
      }
    });
    const logFrom = lines.length;

    // 1,000 requests at once: 900 ping (allowed, rate limited past 30/min), 100 gpio_set (not allowed).
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      const name = i % 10 === 5 ? 'gpio_set' : 'ping';
      sends.push(op.client.publishAsync(`${gw.topics.root}/cmd/${name}`, JSON.stringify({ id: `b-${i}` }), { qos: 0 }));
    }
    await Promise.all(sends);
    const executed = 30 - readyPings;
    const expectedReplies = executed + REFUSAL_REPLIES_PER_WINDOW;
    await until(() => published.replies.length >= expectedReplies, 20_000, `${expectedReplies} replies`);
    // The rest of the burst gets no reply: wait until the dispatcher has counted it.
    const dispatcher = (gw as unknown as { commands: CommandDispatcher }).commands;
    await until(() => dispatcher.refusalsPending === 1000 - executed, 20_000, 'every refusal counted');
    stopped = true;
    await gw.stop();
    await until(() => published.events.some((e) => e.type === 'command_refusals'), 5000, 'the refusal summary');

    // Replies: every executed request answered ok, then 20 refusals, then silence.
    const okIds = published.replies.filter((r) => r.ok === true).map((r) => r.id);
    expect(okIds).toHaveLength(executed);
    expect(published.replies).toHaveLength(expectedReplies);

    const commandEvents = published.events.filter((e) => e.type === 'command');
    expect(commandEvents.filter((e) => e.ok === true)).toHaveLength(executed);
    expect(commandEvents.filter((e) => e.ok === false)).toHaveLength(1);
    const summaries = published.events.filter((e) => e.type === 'command_refusals');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ total: 1000 - executed, counts: { not_allowed: 100, rate_limited: 900 - executed }, unanswered: 1000 - executed - REFUSAL_REPLIES_PER_WINDOW });

    const commandLines = lines.slice(logFrom).filter((l) => l.part === 'commands' && !JSON.stringify(l).includes('"ready-'));
    expect(commandLines).toHaveLength(executed + 2);
    expect(commandLines.filter((l) => /requests refused/.test(String(l.msg)))).toHaveLength(1);
    console.log(`burst of 1000: ${published.events.length} events (${commandEvents.length} command, ${summaries.length} summary), ${published.replies.length} replies, ${commandLines.length} command log lines`);
  });
});

/**
 * Refusal summaries, with an injected clock: the first refusal of a window is reported
 * on its own, the rest once when the window ends; replies stop after the window's
 * budget and resume in the next window; executed requests are always answered.
 */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { createLogger } from '../../../src/core/log.js';
import { CommandDispatcher, type DispatcherOptions } from '../../../src/commands/dispatcher.js';
import { commandsSchema } from '../../../src/commands/schema.js';

function setup(rate = { max: 5, per: '1m' }) {
  const clock = new FakeClock();
  const events: Parameters<DispatcherOptions['event']>[0][] = [];
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const d = new CommandDispatcher({
    config: commandsSchema.parse({ allow: ['ping'], rate }),
    handlers: { ping: () => Promise.resolve({ pong: true }), gpio_set: () => Promise.resolve(1) },
    clock,
    log: createLogger({ pretty: false, destination }),
    event: (e) => events.push(e),
    refusals: { windowMs: 10_000, replies: 3 },
  });
  const req = (name: string, id: string): Promise<unknown> => d.handle(name, Buffer.from(JSON.stringify({ id })));
  return { clock, events, lines, d, req };
}

describe('refused command requests', () => {
  it('one event and one log line for the first refusal, one summary per window; replies bounded', async () => {
    const { clock, events, lines, req } = setup();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await req('ping', `ok-${i}`));
    for (let i = 0; i < 100; i++) answers.push(await req(i % 10 === 0 ? 'gpio_set' : 'ping', `x-${i}`));
    answers.push(await req('ping', 'ok-0')); // duplicate: also a refusal, past the budget
    expect(answers.slice(0, 5).every((a) => (a as { ok: boolean }).ok)).toBe(true);
    // 3 refusals answered, the other 98 not.
    expect(answers.slice(5).filter((a) => a !== null)).toHaveLength(3);
    expect(events.filter((e) => e.type === 'command')).toHaveLength(6); // 5 executed + the first refusal
    expect(events.some((e) => e.type === 'command_refusals')).toBe(false);
    await clock.advance(10_000);
    const summaries = events.filter((e) => e.type === 'command_refusals');
    expect(summaries).toEqual([{ type: 'command_refusals', window_s: 10, total: 101, counts: { rate_limited: 90, not_allowed: 10, duplicate: 1 }, unanswered: 98 }]);
    expect(lines.filter((l) => /refused in 10s/.test(String(l.msg)))).toHaveLength(1);
    expect(lines).toHaveLength(5 + 1 + 1);
    // A new window: answered and reported again.
    expect(await req('gpio_set', 'late')).toMatchObject({ ok: false, error: expect.stringMatching(/not allowed/) });
    expect(events.at(-1)).toMatchObject({ type: 'command', id: 'late' });
    // Alone in its window: no summary.
    await clock.advance(10_000);
    expect(events.filter((e) => e.type === 'command_refusals')).toHaveLength(1);
  });

  it('close() reports the open window at once', async () => {
    const { events, d, req } = setup();
    await req('gpio_set', 'a');
    await req('gpio_set', 'b');
    d.close();
    expect(events.filter((e) => e.type === 'command_refusals')).toEqual([expect.objectContaining({ total: 2, counts: { not_allowed: 2 }, unanswered: 0 })]);
  });
});

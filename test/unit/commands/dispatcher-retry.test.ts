/**
 * Same-id retries: what the dispatcher remembers. A refused or failed request (a
 * `config` that did not validate) is forgotten once answered — the same id runs again
 * after the cause is fixed; a success is remembered (the first answer comes back as a
 * duplicate, nothing runs twice), and so is a request that timed out (it may still be
 * running).
 */
import { describe, expect, it } from 'vitest';
import { CommandDispatcher, CommandError, COMMAND_TIMEOUT_MS } from '../../../src/commands/dispatcher.js';
import { commandsSchema } from '../../../src/commands/schema.js';
import { silentLogger } from '../../../src/core/log.js';
import type { Clock } from '../../../src/core/clock.js';

/** A clock whose timers fire only when the test says so. */
function manualClock(): Clock & { fire(): void } {
  const timers = new Set<() => void>();
  return {
    now: () => Date.now(),
    mono: () => performance.now(),
    random: () => 0.5,
    setTimer(_ms, fn) {
      timers.add(fn);
      return () => timers.delete(fn);
    },
    fire() {
      for (const fn of [...timers]) {
        timers.delete(fn);
        fn();
      }
    },
  };
}

const request = (id: string, args: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ id, args }));

describe('same-id retries', () => {
  it('a refused config is executed again on a retry with the same id; a success is a duplicate', async () => {
    const runs: string[] = [];
    let valid = false;
    const dispatcher = new CommandDispatcher({
      config: commandsSchema.parse({ allow: ['config'] }),
      handlers: {
        config: async (args) => {
          runs.push(String(args.yaml));
          if (!valid) throw new CommandError('config invalid: 1 problem(s), nothing changed', ['gateway.yaml:3:9: devices[0].poll: expected a duration']);
          return { applied: true };
        },
      },
      clock: manualClock(),
      log: silentLogger(),
      event: () => undefined,
    });
    const refused = await dispatcher.handle('config', request('c-1', { yaml: 'bad' }));
    expect(refused).toMatchObject({ id: 'c-1', ok: false, error: 'config invalid: 1 problem(s), nothing changed' });
    // The same id again, as the docs promise retries are safe: executed again, not the old refusal.
    const again = await dispatcher.handle('config', request('c-1', { yaml: 'bad' }));
    expect(again?.duplicate).toBeUndefined();
    expect(runs).toEqual(['bad', 'bad']);
    valid = true;
    const applied = await dispatcher.handle('config', request('c-1', { yaml: 'fixed' }));
    expect(applied).toMatchObject({ ok: true, result: { applied: true } });
    expect(applied?.duplicate).toBeUndefined();
    const dup = await dispatcher.handle('config', request('c-1', { yaml: 'fixed' }));
    expect(dup).toMatchObject({ ok: true, duplicate: true });
    expect(runs).toEqual(['bad', 'bad', 'fixed']);
  });

  it('a timed-out request stays remembered: it may still be running', async () => {
    const clock = manualClock();
    let runs = 0;
    const dispatcher = new CommandDispatcher({
      config: commandsSchema.parse({ allow: ['config'] }),
      handlers: { config: () => (runs++, new Promise(() => undefined)) },
      clock,
      log: silentLogger(),
      event: () => undefined,
    });
    const first = dispatcher.handle('config', request('slow'));
    await Promise.resolve();
    clock.fire();
    expect(await first).toMatchObject({ ok: false, error: `config did not finish within ${COMMAND_TIMEOUT_MS / 1000}s` });
    expect(await dispatcher.handle('config', request('slow'))).toMatchObject({ ok: false, duplicate: true });
    expect(runs).toBe(1);
  });
});

/**
 * mode: output — a relay, a siren, a reset line. The line is driven to `initial` from the
 * moment it becomes an output (no glitch), set by the `gpio_set` action the downlink calls,
 * and driven to `safe` when the driver stops: at shutdown, and before a restart after a
 * fault, so a crashed driver never leaves a pump running. The state point is emitted on
 * every set and as a heartbeat every `report` (read back from the line).
 */
import { describeError } from '../../core/errors.js';
import type { Level } from '../../ports/gpio/port.js';
import { LineReader, every, type ModeEnv, type ModeRunner } from './mode.js';

export interface OutputRunner extends ModeRunner {
  set(value: Level): Promise<Level>;
}

export async function startOutput(env: ModeEnv): Promise<OutputRunner> {
  const { ctx, line, settings, where } = env;
  const reader = new LineReader(env);
  let stopping = false;
  let level: Level = settings.initial;
  // Sets are serialised so the emitted state always matches the last write that landed.
  let chain: Promise<unknown> = Promise.resolve();

  const emit = (value: Level): void => {
    ctx.emit({ point: settings.point, value });
    ctx.health.success();
  };
  emit(level);

  const cancel = every(ctx.clock, settings.reportMs, () => {
    void reader.read().then((v) => {
      if (v === undefined || stopping) return;
      if (v !== level) {
        // Someone else (a script, `pinctrl`) moved our line: report what is really there.
        ctx.health.error(new Error(`line reads ${v} but was set to ${level}`), where);
        level = v;
      }
      emit(v);
    });
  });

  return {
    set(value) {
      const run = chain.then(async () => {
        if (stopping) throw new Error(`${where}: the device is stopping; not set`);
        await line.write(value);
        level = value;
        emit(value);
        return value;
      });
      chain = run.catch(() => undefined);
      return run;
    },
    async stop() {
      stopping = true;
      cancel();
      await chain;
      try {
        await line.write(settings.safe);
        level = settings.safe;
      } catch (err) {
        ctx.log.error({ device: ctx.device, pin: settings.pin }, `${where}: could not drive the safe level ${settings.safe}: ${describeError(err)}`);
      }
    },
  };
}

/**
 * mode: input — a door, tamper or float switch. Emits the debounced level on every
 * change, and again every `report` as a heartbeat so consumers can tell "closed for a
 * week" from "gateway lost the switch". The heartbeat also re-reads the line: a level
 * that differs from what the edges told us means an edge was missed, and is fed to the
 * debouncer like any transition (counted as `missed_edges`).
 */
import type { Level } from '../../ports/gpio/port.js';
import { Debouncer } from './debounce.js';
import { LineReader, every, type ModeEnv, type ModeRunner } from './mode.js';

export async function startInput(env: ModeEnv): Promise<ModeRunner> {
  const { ctx, line, settings, where } = env;
  const reader = new LineReader(env);
  const first = await line.read();
  const emit = (value: Level, ts?: number): void => {
    ctx.emit(ts === undefined ? { point: settings.point, value } : { point: settings.point, value, ts });
    ctx.health.success();
  };
  const wallAt = (mono: number): number => ctx.clock.now() - (ctx.clock.mono() - mono);
  const debouncer = new Debouncer(ctx.clock, settings.debounceMs, first, (level, atMono) => {
    ctx.health.count('changes');
    emit(level, wallAt(atMono));
  });
  debouncer.onRejected = () => ctx.health.count('bounces_rejected');
  const unwatch = line.watch(
    (v, at) => debouncer.raw(v, at),
    (err) => ctx.health.error(err, where),
  );
  emit(first);

  let busy = false;
  const cancel = every(ctx.clock, settings.reportMs, () => {
    if (busy) return; // a read still hanging: do not pile up
    busy = true;
    void reader.read().then((v) => {
      busy = false;
      if (v === undefined || ctx.signal.aborted) return;
      if (!debouncer.settling && v !== debouncer.stable) {
        ctx.health.count('missed_edges');
        debouncer.raw(v);
      }
      emit(debouncer.stable);
    });
  });

  return {
    async stop() {
      cancel();
      unwatch();
      debouncer.dispose();
    },
  };
}

/**
 * The faults the chaos run injects. Instant ones (a kill, a restart, a clock step)
 * complete before the next fault is drawn; lasting ones (link cut, black hole, disk
 * full) heal on their own timer, so they overlap what comes after them (a kill -9
 * on a full disk, a broker restart behind a black hole).
 */
import type { Mosquitto } from '../helpers/mosquitto.js';
import type { FakeClock } from './faketime.js';
import type { GatewayProc } from './gateway-proc.js';
import type { ChaosProxy } from './proxy.js';
import type { SmallDisk } from './small-disk.js';
import type { Timeline } from './timeline.js';

export const FAULT_KINDS = ['kill9', 'sigterm', 'broker_term', 'broker_kill', 'link_cut', 'black_hole', 'disk_full', 'clock_step'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How often each kind is drawn, relative to the others. */
export const WEIGHTS: Record<FaultKind, number> = {
  kill9: 3,
  sigterm: 2,
  broker_term: 1.5,
  broker_kill: 1.5,
  link_cut: 2,
  black_hole: 2,
  disk_full: 2,
  clock_step: 2,
};

/** What each kind does, for the report and docs/chaos.md. */
export const DESCRIPTIONS: Record<FaultKind, string> = {
  kill9: 'SIGKILL the gateway at a random moment (1 in 4: during a graceful stop), restart on the same data dir',
  sigterm: 'graceful stop (SIGTERM, must exit 0), restart',
  broker_term: 'Mosquitto stopped with SIGTERM (saves its store), down 0-3 s, restarted on the same port',
  broker_kill: 'Mosquitto SIGKILLed (store saved at most 1 s before), down 0-3 s, restarted',
  link_cut: 'the proxy drops every connection and refuses new ones for 0.3-8 s',
  black_hole: 'the proxy keeps sockets open but forwards nothing for 1-12 s, then drops them',
  disk_full: 'a filler file takes every free byte of the data_dir tmpfs for 2-15 s (1 in 5: 60-100 s)',
  clock_step: "the gateway's wall clock steps by +/- 5 min .. 20 days (libfaketime), kept within 30 days of real time",
};

export interface World {
  gateway: GatewayProc;
  broker: Mosquitto;
  proxy: ChaosProxy;
  disk: SmallDisk;
  clock: FakeClock;
  timeline: Timeline;
  rand: () => number;
  now: () => number;
  misbehave(msg: string): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const between = (w: World, lo: number, hi: number): number => lo + w.rand() * (hi - lo);

/** Healers of lasting faults still in force, so the end of the run can heal them at once. */
const lasting = new Map<FaultKind, { timer: NodeJS.Timeout; heal: () => void }>();

export function isActive(kind: FaultKind): boolean {
  return lasting.has(kind);
}

export function healAll(): void {
  for (const [, l] of lasting) {
    clearTimeout(l.timer);
    l.heal();
  }
  lasting.clear();
}

function last(w: World, kind: FaultKind, detail: string, ms: number, undo: () => void): string {
  const span = w.timeline.begin(kind, w.now(), detail);
  const heal = (): void => {
    undo();
    w.timeline.end(span, w.now());
    lasting.delete(kind);
  };
  lasting.set(kind, { timer: setTimeout(heal, ms), heal });
  return detail;
}

async function restartGateway(w: World, why: string): Promise<void> {
  if (!(await w.gateway.start())) w.misbehave(`gateway did not log "gateway started" within 20 s after ${why}; last lines:\n    ${w.gateway.lastLines(6).join('\n    ')}`);
}

/** Inject one fault of `kind`; resolves when an instant fault is over or a lasting one has begun. Returns a detail line. */
export async function inject(kind: FaultKind, w: World): Promise<string> {
  switch (kind) {
    case 'kill9': {
      const span = w.timeline.begin(kind, w.now());
      let detail = 'SIGKILL';
      if (w.rand() < 0.25) {
        const after = Math.round(between(w, 0, 800));
        w.gateway.signal('SIGTERM');
        await sleep(after);
        detail = `SIGTERM, then SIGKILL ${after} ms into the stop`;
      }
      await w.gateway.stop('SIGKILL');
      await restartGateway(w, 'kill -9');
      w.timeline.end(span, w.now());
      return (span.detail = detail);
    }
    case 'sigterm': {
      const span = w.timeline.begin(kind, w.now());
      const wasUp = w.gateway.running;
      const phase = w.gateway.isUp ? '' : ' (still starting)';
      const code = wasUp ? await w.gateway.stop('SIGTERM', 20_000) : 'not running (restart pending)';
      if (wasUp && code !== 0) w.misbehave(`SIGTERM${phase}: gateway exited with ${String(code)}, not 0; last lines:\n    ${w.gateway.lastLines(6).join('\n    ')}`);
      await restartGateway(w, 'SIGTERM');
      w.timeline.end(span, w.now());
      return (span.detail = `exit ${String(code)}${phase}`);
    }
    case 'broker_term':
    case 'broker_kill': {
      const down = Math.round(between(w, 0, 3000));
      const span = w.timeline.begin(kind, w.now(), `down ${down} ms`);
      if (kind === 'broker_term') await w.broker.stop();
      else await w.broker.kill();
      await sleep(down);
      await w.broker.start();
      w.timeline.end(span, w.now());
      return span.detail;
    }
    case 'link_cut': {
      const ms = Math.round(between(w, 300, 8000));
      w.proxy.setMode('cut');
      return last(w, kind, `${ms} ms`, ms, () => w.proxy.setMode('pass'));
    }
    case 'black_hole': {
      const ms = Math.round(between(w, 1000, 12_000));
      w.proxy.setMode('blackhole');
      return last(w, kind, `${ms} ms`, ms, () => w.proxy.setMode('pass'));
    }
    case 'disk_full': {
      // One in five lasts long enough (60-100 s at ~300 readings/s) to overflow what the
      // gateway can hold in memory while commits fail.
      const ms = Math.round(w.rand() < 0.2 ? between(w, 60_000, 100_000) : between(w, 2000, 15_000));
      const bytes = w.disk.fill();
      return last(w, kind, `${ms} ms, filler ${(bytes / 2 ** 20).toFixed(1)} MiB`, ms, () => w.disk.free());
    }
    case 'clock_step': {
      const big = w.rand() < 0.5;
      let step = big ? between(w, 1, 20) * 86_400_000 : between(w, 5, 180) * 60_000;
      if (w.rand() < 0.5) step = -step;
      if (Math.abs(w.clock.offsetMs + step) > 30 * 86_400_000) step = -step;
      const before = w.clock.offsetMs;
      w.clock.set(before + step);
      const at = w.now();
      w.timeline.setOffset(at, w.clock.offsetMs);
      const span = w.timeline.begin(kind, at);
      w.timeline.end(span, at);
      const h = (ms: number): string => `${ms >= 0 ? '+' : ''}${(ms / 3_600_000).toFixed(1)} h`;
      return (span.detail = `${h(w.clock.offsetMs - before)} (offset now ${h(w.clock.offsetMs)})`);
    }
  }
}

/**
 * Chaos-run settings, all from the environment so a run can be repeated exactly:
 *   CHAOS_FAULTS   stop after this many injected faults          (default 220)
 *   CHAOS_SECONDS  stop injecting after this long, whatever count (default 1200)
 *   CHAOS_SEED     seed of every random choice (printed at start; default: random)
 *   CHAOS_KINDS    comma list of fault kinds to draw from (default: all)
 *   CHAOS_DRAIN_SECONDS  longest wait for the final drain       (default 120)
 *   CHAOS_KEEP     1: keep the work dir (logs, broker db) after the run
 *   CHAOS_ENCODING compact: data messages in the compact encoding (default json; test/chaos/setup.ts)
 * Both bounds hold: the run ends at whichever comes first, then heals and drains.
 */
import { FAULT_KINDS, type FaultKind } from './faults.js';

export interface ChaosOptions {
  faults: number;
  seconds: number;
  seed: number;
  kinds: FaultKind[];
  drainSeconds: number;
  keep: boolean;
}

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  return n;
}

export function chaosOptions(): ChaosOptions {
  const kindsRaw = process.env.CHAOS_KINDS;
  let kinds: FaultKind[] = [...FAULT_KINDS];
  if (kindsRaw) {
    kinds = kindsRaw.split(',').map((k) => k.trim()) as FaultKind[];
    const bad = kinds.filter((k) => !FAULT_KINDS.includes(k));
    if (bad.length > 0) throw new Error(`CHAOS_KINDS: unknown ${bad.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
  }
  return {
    faults: intEnv('CHAOS_FAULTS', 220, 1, 100_000),
    seconds: intEnv('CHAOS_SECONDS', 1200, 10, 24 * 3600),
    seed: intEnv('CHAOS_SEED', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31 - 1),
    kinds,
    drainSeconds: intEnv('CHAOS_DRAIN_SECONDS', 120, 5, 3600),
    keep: process.env.CHAOS_KEEP === '1',
  };
}

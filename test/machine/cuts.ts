/**
 * Power cuts for the machine test: SIGKILL of qemu at a random moment while the guest's
 * gateway is ingesting (broker up) or draining a backlog (broker down for a while, then
 * back), then power on again and wait for readings past the newest seq seen before.
 *
 * The accounting is the Collector's: after every cut each seq up to the newest one
 * delivered must have been delivered or announced lost on `events` (with
 * `buffer.synchronous: normal` a reboot after a cut announces `unclean_shutdown` for
 * the seqs the last commits may have held), and no seq may carry two readings.
 * MACHINE_CUTS (default 3) cuts; MACHINE_FULL=1 makes it 50. MACHINE_DRIVE_CUTS (default 2;
 * 20 with MACHINE_FULL=1) more on the crash drive (crash-drive.ts), where the medium also
 * loses what was not flushed. MACHINE_SEED repeats a run.
 */
import type { Mosquitto } from '../helpers/mosquitto.js';
import type { Collector } from './collector.js';
import type { Vm } from './vm.js';

export interface CutPlan {
  cuts: number;
  /** Cuts on the crash drive (the medium loses unflushed writes, tears the one in flight). */
  driveCuts: number;
  seed: number;
}

function count(name: string, value: string | undefined, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 500) throw new Error(`${name}=${value}: expected an integer 0..500`);
  return n;
}

export function cutPlan(env = process.env): CutPlan {
  const full = env.MACHINE_FULL === '1';
  const cuts = full ? Math.max(50, count('MACHINE_CUTS', env.MACHINE_CUTS, 50)) : count('MACHINE_CUTS', env.MACHINE_CUTS, 3);
  const driveCuts = full ? Math.max(20, count('MACHINE_DRIVE_CUTS', env.MACHINE_DRIVE_CUTS, 20)) : count('MACHINE_DRIVE_CUTS', env.MACHINE_DRIVE_CUTS, 2);
  const seed = env.MACHINE_SEED !== undefined ? Number(env.MACHINE_SEED) : Math.floor(Math.random() * 2 ** 31);
  return { cuts, driveCuts, seed };
}

export interface CutResult {
  n: number;
  phase: 'ingesting' | 'draining';
  afterMs: number;
  seqBefore: number;
  /** Power-on to the first reading past seqBefore. */
  recoverS: number;
}

/**
 * One cut. Before it the guest is running and delivering. After it the guest is running
 * again and readings past the newest seq before the cut have arrived.
 */
export async function powerCut(
  n: number,
  vm: Vm,
  broker: Mosquitto,
  collector: Collector,
  rand: () => number,
  log: (s: string) => void,
  medium?: () => string,
  /** Waits, after the random delay, for the moment to cut (the crash drive: writes in its cache). */
  moment?: () => Promise<void>,
): Promise<CutResult> {
  const phase = rand() < 0.5 ? 'ingesting' : 'draining';
  let afterMs: number;
  if (phase === 'draining') {
    // A backlog of 5-20 s of readings, then the broker comes back and the cut lands in the drain.
    await broker.stop();
    await sleep(5000 + Math.floor(rand() * 15_000));
    await broker.start();
    afterMs = Math.floor(rand() * 4000);
  } else {
    afterMs = 1000 + Math.floor(rand() * 9000);
  }
  await sleep(afterMs);
  await moment?.();
  const seqBefore = collector.maxSeq;
  await vm.powerCut();
  const lost = medium?.();
  log(`cut ${n}: ${phase}, ${afterMs} ms in, newest seq seen ${seqBefore}${lost ? `; the drive: ${lost}` : ''}`);
  const on = Date.now();
  await vm.powerOn();
  await collector.waitFor(() => collector.maxSeq > seqBefore, 600_000, `readings past seq ${seqBefore} after cut ${n}`);
  const recoverS = Math.round((Date.now() - on) / 1000);
  await vm.waitForAgent();
  return { n, phase, afterMs, seqBefore, recoverS };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

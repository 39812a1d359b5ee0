/**
 * Which boot this is: the kernel's boot id tells a restart of the gateway from a
 * reboot of the machine (buffer-time.ts, and the seq ledger with synchronous=normal).
 *
 * Where it comes from, in order:
 * 1. `CITYGATE_BOOT_ID`: the systemd unit sets it to `%b` (the boot id, 32 hex digits
 *    without dashes), because the unit's `ProcSubset=pid` hides /proc/sys;
 * 2. /proc/sys/kernel/random/boot_id (a manual start, a container, another init);
 * 3. none: the id is `unknown`, and the caller is told why, to say so once.
 *
 * Either way the id is returned in the kernel's dashed form, so values saved by an
 * earlier version (read from /proc) still compare equal.
 *
 * Why `unknown` means "a reboot", never "the same boot": taking a reboot for a restart
 * would let the buffer clock carry monotonic time across boots (readings expired too
 * early) and, with synchronous=normal, start seq at the database after a power cut
 * that may have lost its last commits (seq reuse). Taking a restart for a reboot costs
 * at most a skipped, announced seq range (synchronous=normal only) and ages that count
 * the time off only when the wall clock vouches for it (readings kept a little longer).
 */
import { readFileSync } from 'node:fs';

export const BOOT_ID_ENV = 'CITYGATE_BOOT_ID';
export const BOOT_ID_PROC = '/proc/sys/kernel/random/boot_id';
export const UNKNOWN_BOOT = 'unknown';

export interface BootId {
  /** Dashed lowercase UUID, or `unknown`. */
  id: string;
  source: 'systemd' | 'proc' | 'unknown';
  /** Set when the id is unknown, or the environment held something that is not one: for the log. */
  problem?: string;
}

/** `a1b2…` (32 hex, systemd's %b) or a dashed UUID → dashed lowercase; undefined if neither. */
export function normalizeBootId(raw: string): string | undefined {
  const hex = raw.trim().toLowerCase().replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function readBootId(env: NodeJS.ProcessEnv = process.env, procFile = BOOT_ID_PROC, read: (f: string) => string = (f) => readFileSync(f, 'utf8')): BootId {
  const fromEnv = env[BOOT_ID_ENV];
  let envProblem: string | undefined;
  if (fromEnv !== undefined) {
    const id = normalizeBootId(fromEnv);
    if (id) return { id, source: 'systemd' };
    envProblem = `${BOOT_ID_ENV} is set but is not a boot id (32 hex digits)`;
  }
  let why: string;
  try {
    const id = normalizeBootId(read(procFile));
    if (id) return { id, source: 'proc', ...(envProblem ? { problem: envProblem } : {}) };
    why = 'holds no boot id';
  } catch (err) {
    why = `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  return {
    id: UNKNOWN_BOOT,
    source: 'unknown',
    problem:
      `${envProblem ?? `${BOOT_ID_ENV} is not set`} and ${procFile} ${why}: every start is taken for a reboot ` +
      '(buffer ages count the time off only when the wall clock vouches for it; with buffer.synchronous: normal a crash skips and announces the reserved seqs). ' +
      `Under systemd set Environment=${BOOT_ID_ENV}=%b in the unit.`,
  };
}

/**
 * Link-test settings, from the environment (docs/links.md):
 *   LINKS_FULL=1             the full run: 60 s per profile, outages 20 s, 2 min, 10 min,
 *                            the one-hour 2G backlog; default: the bounded CI run
 *                            (15 s per profile, the 20 s outage, no backlog)
 *   LINKS_PARTS              comma list of profiles,recovery,backlog (default: by mode)
 *   LINKS_PROFILES           comma list of profile names (default: all)
 *   LINKS_SECONDS            measured seconds per profile
 *   LINKS_OUTAGES            comma list of outage lengths in seconds
 *   LINKS_RECOVERY_PROFILE   the link the outages happen on (default 3g)
 *   LINKS_RECOVERY_BOUND_S   the first delivery after an outage must come within this
 *                            (default 20: the goal of the reconnect scheme, README)
 *   LINKS_BACKLOG_SECONDS    how much backlog to build, in seconds of the device (3600)
 *   LINKS_BACKLOG_WINDOW_S   how long to watch live readings while it drains (300)
 *   LINKS_LIVE_P99_BOUND_S   live p99 during the backlog drain must be within it (default 10;
 *                            0 turns the check off)
 *   LINKS_REPORT             write the results as JSON to this file
 */
export type Part = 'profiles' | 'recovery' | 'backlog';

export interface LinkOptions {
  full: boolean;
  parts: Part[];
  profiles: string[] | undefined;
  seconds: number;
  outages: number[];
  recoveryProfile: string;
  recoveryBoundS: number;
  backlogSeconds: number;
  backlogWindowS: number;
  liveP99BoundS: number | undefined;
  report: string | undefined;
}

function num(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name}=${raw}: expected a number from ${min} to ${max}`);
  return n;
}

function list(name: string): string[] | undefined {
  const raw = process.env[name];
  return raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

export function linkOptions(): LinkOptions {
  const full = process.env.LINKS_FULL === '1';
  const parts = (list('LINKS_PARTS') ?? (full ? ['profiles', 'recovery', 'backlog'] : ['profiles', 'recovery'])) as Part[];
  const bad = parts.filter((p) => !['profiles', 'recovery', 'backlog'].includes(p));
  if (bad.length > 0) throw new Error(`LINKS_PARTS: unknown ${bad.join(', ')} (known: profiles, recovery, backlog)`);
  const outages = (list('LINKS_OUTAGES') ?? (full ? ['20', '120', '600'] : ['20'])).map(Number);
  if (outages.some((o) => !Number.isFinite(o) || o < 1 || o > 3600)) throw new Error(`LINKS_OUTAGES: expected seconds from 1 to 3600, got ${process.env.LINKS_OUTAGES}`);
  const p99 = process.env.LINKS_LIVE_P99_BOUND_S;
  return {
    full,
    parts,
    profiles: list('LINKS_PROFILES'),
    seconds: num('LINKS_SECONDS', full ? 60 : 15, 5, 3600),
    outages,
    recoveryProfile: process.env.LINKS_RECOVERY_PROFILE ?? '3g',
    recoveryBoundS: num('LINKS_RECOVERY_BOUND_S', 20, 1, 3600),
    backlogSeconds: num('LINKS_BACKLOG_SECONDS', 3600, 10, 86_400),
    backlogWindowS: num('LINKS_BACKLOG_WINDOW_S', 300, 40, 7200),
    liveP99BoundS: p99 === '0' ? undefined : num('LINKS_LIVE_P99_BOUND_S', 10, 0.1, 7200),
    report: process.env.LINKS_REPORT || undefined,
  };
}

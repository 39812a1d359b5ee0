/**
 * Slows down password guessing on the status page (docs/security.md, ETSI 5.1-5).
 *
 * Only a request that *presents* credentials and fails counts as a guess: a browser's first
 * visit without any is a plain 401 challenge. After `freeFailures` guesses in a row from one
 * source, that source is locked out for 1 s, doubling with each further guess up to
 * `maxLockMs`; while locked it gets 429 with Retry-After and its credentials are not even
 * checked (no answer, no oracle). A success from the source clears its record.
 *
 * A source is the client address; IPv6 addresses are grouped by their /64, since one host
 * usually holds a whole /64. A source that keeps quiet for `forgetMs` is forgotten, and at
 * most `maxSources` are remembered (the least recently seen goes first), so a flood of
 * addresses costs bounded memory: a guesser with many addresses is slowed per address only,
 * which the docs state as the limit of this defence.
 */
export interface LoginThrottleOptions {
  freeFailures?: number;
  maxLockMs?: number;
  forgetMs?: number;
  maxSources?: number;
  /** Monotonic ms. */
  now?: () => number;
}

export type LoginVerdict = { allowed: true } | { allowed: false; retryAfterS: number };

interface Source {
  failures: number;
  lockedUntil: number;
  seenAt: number;
}

export class LoginThrottle {
  private readonly sources = new Map<string, Source>();
  private readonly freeFailures: number;
  private readonly maxLockMs: number;
  private readonly forgetMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  /** Guesses refused because their source was locked, since start (for the log summary). */
  refused = 0;

  constructor(o: LoginThrottleOptions = {}) {
    this.freeFailures = o.freeFailures ?? 5;
    this.maxLockMs = o.maxLockMs ?? 15 * 60_000;
    this.forgetMs = o.forgetMs ?? 60 * 60_000;
    this.maxSources = o.maxSources ?? 4096;
    this.now = o.now ?? (() => performance.now());
  }

  /** Whether `address` may have its credentials checked now. */
  check(address: string | undefined): LoginVerdict {
    const s = this.sources.get(sourceKey(address));
    const now = this.now();
    if (!s || s.lockedUntil <= now) return { allowed: true };
    this.refused++;
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((s.lockedUntil - now) / 1000)) };
  }

  /** A guess from `address` failed; returns true when this failure locked the source. */
  failed(address: string | undefined): boolean {
    const key = sourceKey(address);
    const now = this.now();
    const s = this.sources.get(key) ?? { failures: 0, lockedUntil: 0, seenAt: now };
    if (now - s.seenAt > this.forgetMs) s.failures = 0;
    s.failures++;
    s.seenAt = now;
    const over = s.failures - this.freeFailures;
    if (over > 0) s.lockedUntil = now + Math.min(this.maxLockMs, 1000 * 2 ** Math.min(over - 1, 30));
    this.sources.delete(key); // re-insert: the map's order is least recently seen first
    this.sources.set(key, s);
    this.evict(now);
    return over > 0;
  }

  succeeded(address: string | undefined): void {
    this.sources.delete(sourceKey(address));
  }

  /** Sources remembered now (for tests and the health of the throttle itself). */
  get size(): number {
    return this.sources.size;
  }

  private evict(now: number): void {
    for (const [key, s] of this.sources) {
      const stale = now - s.seenAt > this.forgetMs && s.lockedUntil <= now;
      if (!stale && this.sources.size <= this.maxSources) break;
      this.sources.delete(key);
    }
  }
}

/** The throttled unit: an IPv4 address, or the /64 of an IPv6 one. */
export function sourceKey(address: string | undefined): string {
  if (!address) return '?';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return v4;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const full = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${full.slice(0, 4).map((h) => h.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

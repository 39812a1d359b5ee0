/**
 * Refused command requests, summarised per window instead of reported one by one, so a
 * flood of requests (a misbehaving client, a replayed queue) costs a bounded number of
 * `events` messages, log lines and replies.
 *
 * A refusal is a request that was not executed: unreadable, unknown command, not
 * allowed, a repeated id (answered from memory), or past the rate limit. Per window
 * (10 s, opened by the first refusal):
 * - the first refusal is reported as before (its own `command` event and log line);
 * - the rest are counted per reason; when the window ends, one `command_refusals` event
 *   and one log line carry the counts (none when the first was the only one);
 * - at most `replies` refusals are answered; the others get no reply (counted as
 *   `unanswered` in the summary). Executed requests (those within the rate limit) are
 *   always answered and reported individually: they are bounded by the rate limit.
 */
import type { Clock } from '../core/clock.js';

export type RefusalReason = 'bad_request' | 'unknown_command' | 'not_allowed' | 'duplicate' | 'rate_limited';

/** How long one summary window lasts. */
export const REFUSAL_WINDOW_MS = 10_000;
/** Most refusals answered per window. */
export const REFUSAL_REPLIES_PER_WINDOW = 20;

export interface RefusalSummary {
  /** The window's length in seconds. */
  window_s: number;
  /** Refusals in the window, including the first (reported on its own). */
  total: number;
  counts: Partial<Record<RefusalReason, number>>;
  /** Refusals that got no reply (past the window's reply budget). */
  unanswered: number;
}

export interface RefusalWindowOptions {
  clock: Clock;
  windowMs?: number;
  replies?: number;
  /** Called once per window that held more than one refusal; must not throw. */
  onSummary(s: RefusalSummary): void;
}

export interface RefusalVerdict {
  /** The first of its window: report it individually. */
  first: boolean;
  /** Within the window's reply budget: answer it. */
  reply: boolean;
}

export class RefusalWindow {
  private counts: Partial<Record<RefusalReason, number>> = {};
  private total = 0;
  private replied = 0;
  private unanswered = 0;
  private cancel: (() => void) | undefined;

  constructor(private readonly o: RefusalWindowOptions) {}

  note(reason: RefusalReason): RefusalVerdict {
    const first = this.cancel === undefined;
    if (first) this.cancel = this.o.clock.setTimer(this.o.windowMs ?? REFUSAL_WINDOW_MS, () => this.flush());
    this.total++;
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    const reply = this.replied < (this.o.replies ?? REFUSAL_REPLIES_PER_WINDOW);
    if (reply) this.replied++;
    else this.unanswered++;
    return { first, reply };
  }

  /** Refusals counted in the open window. */
  get pending(): number {
    return this.total;
  }

  /** End the current window now (its timer fired, or the gateway stops). */
  flush(): void {
    this.cancel?.();
    this.cancel = undefined;
    const s: RefusalSummary = { window_s: Math.round((this.o.windowMs ?? REFUSAL_WINDOW_MS) / 1000), total: this.total, counts: this.counts, unanswered: this.unanswered };
    this.counts = {};
    this.total = 0;
    this.replied = 0;
    this.unanswered = 0;
    if (s.total > 1) this.o.onSummary(s);
  }
}

/** "rate_limited 970, not_allowed 29" */
export function countsText(counts: RefusalSummary['counts']): string {
  return Object.entries(counts)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

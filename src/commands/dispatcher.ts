/**
 * The command dispatcher: one request in, at most one answer out, whatever happens.
 * In order: parse (bad payload → error), allow-list (not listed → error), repeated id
 * (→ the first answer again, marked `duplicate`, nothing executed — while it runs, and
 * after it succeeded or timed out; a request that failed or was refused is forgotten
 * once answered, so the same id may be retried and is executed again), rate limit
 * (→ error, not executed, not remembered: the same id may be retried later), execute
 * with a deadline. Every executed request is answered and goes to the log and to
 * `events`; refused ones (all but the last step) are summarised per window and only
 * the first few of a window are answered (refusals.ts).
 *
 * Transport-free: mqtt-downlink.ts feeds it MQTT messages and routes the answers.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { CommandReplyPayload, EventBody } from '../uplink/topics.js';
import type { CommandsConfig } from './schema.js';
import { parseRequest } from './protocol.js';
import { RateLimiter, RecentRequests } from './limits.js';
import { RefusalWindow, countsText, type RefusalReason, type RefusalSummary } from './refusals.js';
import type { CommandHandler } from './builtins.js';

/** Longest a command may run before it is answered with a timeout error. */
export const COMMAND_TIMEOUT_MS = 30_000;

export interface DispatcherOptions {
  config: CommandsConfig;
  handlers: Readonly<Record<string, CommandHandler>>;
  clock: Clock;
  log: Logger;
  /** Record an event for the `events` topic (the durable buffer's event queue). */
  event(e: Extract<EventBody, { type: 'command' | 'command_refusals' }>): void;
  /** Refusal summary window and reply budget (default 10 s, 20 replies: refusals.ts). */
  refusals?: { windowMs?: number; replies?: number };
}

/** An error whose reply carries `details` (one line each) besides its message. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly details: string[],
  ) {
    super(message);
  }
}

type Outcome = { ok: boolean; result?: unknown; error?: string | undefined; details?: string[] | undefined; duplicate?: boolean; refused?: RefusalReason; timedOut?: boolean };

export class CommandDispatcher {
  private limiter: RateLimiter;
  private recent: RecentRequests<Promise<CommandReplyPayload>>;
  private allowed: ReadonlySet<string>;
  private config: CommandsConfig;
  private readonly refusals: RefusalWindow;

  constructor(private readonly o: DispatcherOptions) {
    this.config = o.config;
    this.refusals = new RefusalWindow({ clock: o.clock, ...o.refusals, onSummary: (s) => this.summarise(s) });
    this.limiter = new RateLimiter(o.config.rate.max, o.config.rate.per, o.clock);
    this.recent = new RecentRequests(o.config.remember);
    this.allowed = new Set(o.config.allow);
  }

  /** A changed `commands:` section (config reload): new allow-list and limits from now on. */
  reconfigure(config: CommandsConfig): void {
    if (config.rate.max !== this.config.rate.max || config.rate.per !== this.config.rate.per) {
      this.limiter = new RateLimiter(config.rate.max, config.rate.per, this.o.clock);
    }
    if (config.remember !== this.config.remember) this.recent = new RecentRequests(config.remember);
    this.allowed = new Set(config.allow);
    this.config = config;
  }

  /** Refusals counted in the open summary window (not yet reported). */
  get refusalsPending(): number {
    return this.refusals.pending;
  }

  /** Report the refusals of the current window now (the gateway stops). */
  close(): void {
    this.refusals.flush();
  }

  /** Answer one request: null when it is a refusal past its window's reply budget. Never rejects. */
  async handle(name: string, payload: Buffer, correlation?: Buffer): Promise<CommandReplyPayload | null> {
    const started = this.o.clock.mono();
    const parsed = parseRequest(payload, correlation);
    if (!parsed.ok) return this.finish(name, parsed.id, started, { ok: false, error: parsed.error, refused: 'bad_request' });
    const { id, args } = parsed.request;
    const handler = this.o.handlers[name];
    if (!handler) {
      return this.finish(name, id, started, { ok: false, error: `unknown command "${name}" — known: ${Object.keys(this.o.handlers).join(', ')}`, refused: 'unknown_command' });
    }
    if (!this.allowed.has(name)) {
      return this.finish(name, id, started, { ok: false, error: `command "${name}" is not allowed on this gateway — list it under commands.allow in its config`, refused: 'not_allowed' });
    }
    const key = `${name}\u0000${id}`;
    const previous = this.recent.get(key);
    if (previous) {
      const first = await previous;
      return this.finish(name, id, started, { ok: first.ok, result: first.result, error: first.error, details: first.details, duplicate: true, refused: 'duplicate' });
    }
    const slot = this.limiter.take();
    if (!slot.ok) {
      const { max, per } = this.config.rate;
      const error = `rate limited: at most ${max} commands per ${Math.round(per / 1000)}s — retry in ${Math.ceil(slot.retryInMs / 1000)}s`;
      return this.finish(name, id, started, { ok: false, error, refused: 'rate_limited' });
    }
    // Executed: always answered (finish returns null only for refusals).
    const answer = this.execute(handler, name, args).then((r) => {
      // Refused or failed (a config that did not validate, a device not running): nothing
      // to protect from a second run, so the same id is free again. A timeout may still be
      // running and stays remembered.
      if (!r.ok && !r.timedOut && this.recent.get(key) === answer) this.recent.delete(key);
      return this.finish(name, id, started, r) as CommandReplyPayload;
    });
    this.recent.set(key, answer);
    return answer;
  }

  private async execute(handler: CommandHandler, name: string, args: Record<string, unknown>): Promise<Outcome> {
    let cancel: (() => void) | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      cancel = this.o.clock.setTimer(COMMAND_TIMEOUT_MS, () => {
        timedOut = true;
        reject(new Error(`${name} did not finish within ${COMMAND_TIMEOUT_MS / 1000}s`));
      });
    });
    try {
      const result = await Promise.race([handler(args), timeout]);
      return { ok: true, result };
    } catch (err) {
      return { ok: false, error: describeError(err), ...(err instanceof CommandError ? { details: err.details } : {}), ...(timedOut ? { timedOut } : {}) };
    } finally {
      cancel?.();
    }
  }

  private finish(
    command: string,
    id: string | null,
    started: number,
    r: Outcome,
  ): CommandReplyPayload | null {
    const verdict = r.refused ? this.refusals.note(r.refused) : { first: true, reply: true };
    const ms = Math.round(this.o.clock.mono() - started);
    const reply: CommandReplyPayload = { id, command, ok: r.ok, ts: this.o.clock.now() };
    if (r.ok && r.result !== undefined) reply.result = r.result;
    if (!r.ok) reply.error = r.error ?? 'failed';
    if (!r.ok && r.details?.length) reply.details = r.details;
    if (r.duplicate) reply.duplicate = true;
    const ev: Parameters<DispatcherOptions['event']>[0] = { type: 'command', command, id, ok: r.ok, ms };
    if (reply.error !== undefined) ev.error = reply.error;
    if (r.duplicate) ev.duplicate = true;
    if (verdict.first) this.report(ev, r);
    return verdict.reply ? reply : null;
  }

  /** One command event and one log line. */
  private report(ev: Extract<EventBody, { type: 'command' }>, r: Outcome): void {
    const { command, id, ms } = ev;
    try {
      this.o.event(ev);
    } catch (err) {
      this.o.log.warn(`command ${command}: recording the event failed: ${describeError(err)}`);
    }
    const fields = { command, id, ms, ...(r.duplicate ? { duplicate: true } : {}) };
    if (r.ok) this.o.log.info(fields, `command ${command} (${id}): ok`);
    else this.o.log.warn(fields, `command ${command} (${id ?? 'no id'}): ${ev.error}`);
  }

  /** The window's refusals: one event, one log line. */
  private summarise(s: RefusalSummary): void {
    try {
      this.o.event({ type: 'command_refusals', ...s });
    } catch (err) {
      this.o.log.warn(`commands: recording the refusal summary failed: ${describeError(err)}`);
    }
    this.o.log.warn(
      { refused: s.total, counts: s.counts, unanswered: s.unanswered, window_s: s.window_s },
      `commands: ${s.total} requests refused in ${s.window_s}s (${countsText(s.counts)}); ${s.unanswered} not answered — the first was logged on its own`,
    );
  }
}

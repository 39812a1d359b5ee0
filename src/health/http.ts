/**
 * The local status server, for technicians on site, `citygate status` and Prometheus:
 *   GET /         the status page (page.ts), live over /live
 *   GET /live     server-sent events: a `view` event with the whole StatusView at once,
 *                 then whenever something changed (at most every second, at least
 *                 every 5 s so ages and health stay current)
 *   GET /health   the health snapshot (same JSON as the MQTT `health` topic)
 *   GET /metrics  Prometheus text format
 * Listens on loopback by default (health.http). Beyond loopback it requires
 * health.auth (http-auth.ts) and refuses to start without it. It accepts no input.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { HealthPayload } from '../core/payloads.js';
import { renderStatusPage } from './page.js';
import type { StatusView } from './live.js';
import { authorized, isLoopbackListen, presentsCredentials, type HttpAuth } from './http-auth.js';
import { LoginThrottle } from './login-throttle.js';

export interface StatusServerOptions {
  /** The page's data; default: the health snapshot alone. */
  view?: () => StatusView;
  /** A counter that moves when the view changed (LiveState.version). */
  changed?: () => number;
  auth?: HttpAuth;
  /** Failed logins are slowed down per source (login-throttle.ts); tests pass their own clock. */
  throttle?: LoginThrottle;
}

/** Most /live listeners at once (each costs a socket and a JSON render per push). */
const MAX_LIVE = 16;
const PUSH_CHECK_MS = 1000;
const PUSH_EVERY_MS = 5000;

export class StatusServer {
  private server: Server | undefined;
  private readonly live = new Set<ServerResponse>();
  private pushTimer: NodeJS.Timeout | undefined;
  private lastPushed = { version: -1, at: 0 };
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly listen: string,
    private readonly snapshot: () => HealthPayload,
    private readonly log: Logger,
    private readonly opts: StatusServerOptions = {},
  ) {
    this.throttle = opts.throttle ?? new LoginThrottle();
  }

  private view(): StatusView {
    return this.opts.view?.() ?? { health: this.snapshot(), points: [], events: [] };
  }

  async start(): Promise<void> {
    // prom-client is loaded on the first scrape: a gateway nobody scrapes saves its memory.
    let reg: Awaited<ReturnType<typeof loadRegistry>> | undefined;
    const loadRegistry = async () => (await import('./metrics.js')).metricsRegistry(this.snapshot);
    const idx = this.listen.lastIndexOf(':');
    const host = this.listen.slice(0, idx).replace(/^\[|\]$/g, '');
    const port = Number(this.listen.slice(idx + 1));
    if (!isLoopbackListen(host) && !this.opts.auth) {
      throw new Error(`health.http is ${this.listen}, beyond loopback, and health.auth is not set — set a token or a username and password, or bind to 127.0.0.1`);
    }
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      try {
        if (req.method !== 'GET') {
          res.writeHead(405).end();
        } else if (!this.admit(req, res)) {
          // answered: 401 or 429
        } else if (path === '/health') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.snapshot()));
        } else if (path === '/metrics') {
          void (async () => {
            reg ??= await loadRegistry();
            const text = await reg.metrics();
            res.writeHead(200, { 'content-type': reg.contentType }).end(text);
          })().catch((err: unknown) => res.writeHead(500).end(String(err)));
        } else if (path === '/live') {
          this.openLive(req, res);
        } else if (path === '/') {
          res
            .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY' })
            .end(renderStatusPage(this.view()));
        } else {
          res.writeHead(404).end('not found\n');
        }
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    this.log.info(`status page on http://${this.address() ?? this.listen}/`);
  }

  /**
   * Whether the request may be served; otherwise it has been answered: 429 while its source
   * is locked out for guessing (credentials not checked), else 401 with the challenge.
   */
  private admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.opts.auth) return true;
    const from = req.socket.remoteAddress;
    const verdict = this.throttle.check(from);
    if (!verdict.allowed) {
      res.writeHead(429, { 'retry-after': String(verdict.retryAfterS) }).end(`too many failed logins: try again in ${verdict.retryAfterS} s\n`);
      return false;
    }
    if (authorized(req, this.opts.auth)) {
      this.throttle.succeeded(from);
      return true;
    }
    if (presentsCredentials(req) && this.throttle.failed(from)) {
      // The address is the operator's clue; the credentials tried are never logged.
      this.log.warn({ from }, 'status page: repeated failed logins, this source is slowed down');
    }
    const challenge = this.opts.auth.username ? { 'www-authenticate': 'Basic realm="citygate", charset="UTF-8"' } : {};
    res.writeHead(401, challenge).end('login required (health.auth)\n');
    return false;
  }

  private openLive(req: IncomingMessage, res: ServerResponse): void {
    if (this.live.size >= MAX_LIVE) {
      res.writeHead(503, { 'retry-after': '10' }).end('too many live views open\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.live.add(res);
    req.socket.setTimeout(0);
    res.once('close', () => this.live.delete(res));
    this.send([res]);
    this.pushTimer ??= setInterval(() => this.push(), PUSH_CHECK_MS);
    this.pushTimer.unref();
  }

  private push(): void {
    if (this.live.size === 0) {
      clearInterval(this.pushTimer);
      this.pushTimer = undefined;
      return;
    }
    const version = this.opts.changed?.() ?? 0;
    const now = Date.now();
    if (version === this.lastPushed.version && now - this.lastPushed.at < PUSH_EVERY_MS) return;
    this.send([...this.live]);
  }

  private send(to: ServerResponse[]): void {
    let data: string;
    try {
      data = JSON.stringify(this.view());
    } catch (err) {
      this.log.warn(`status page: building the live view failed: ${String(err)}`);
      return;
    }
    if (to.length === this.live.size) this.lastPushed = { version: this.opts.changed?.() ?? 0, at: Date.now() };
    for (const res of to) res.write(`event: view\ndata: ${data}\n\n`);
  }

  address(): string | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `${a.address}:${a.port}` : undefined;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    clearInterval(this.pushTimer);
    this.pushTimer = undefined;
    for (const res of this.live) res.end();
    this.live.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

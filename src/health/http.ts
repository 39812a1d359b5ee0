/**
 * The local status page, for technicians on site and for `citygate status`:
 *   GET /        a small HTML table that refreshes itself
 *   GET /health  the health snapshot (same JSON as the MQTT `health` topic)
 *   GET /metrics Prometheus text format
 * Listens on loopback by default (health.http); it serves no secrets and accepts
 * no input.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { HealthPayload } from '../uplink/topics.js';
import { renderStatusPage } from './page.js';

export class StatusServer {
  private server: Server | undefined;

  constructor(
    private readonly listen: string,
    private readonly snapshot: () => HealthPayload,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    // prom-client is loaded on the first scrape: a gateway nobody scrapes saves its memory.
    let reg: Awaited<ReturnType<typeof loadRegistry>> | undefined;
    const loadRegistry = async () => (await import('./metrics.js')).metricsRegistry(this.snapshot);
    const idx = this.listen.lastIndexOf(':');
    const host = this.listen.slice(0, idx).replace(/^\[|\]$/g, '');
    const port = Number(this.listen.slice(idx + 1));
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      try {
        if (req.method !== 'GET') {
          res.writeHead(405).end();
        } else if (path === '/health') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.snapshot()));
        } else if (path === '/metrics') {
          void (async () => {
            reg ??= await loadRegistry();
            const text = await reg.metrics();
            res.writeHead(200, { 'content-type': reg.contentType }).end(text);
          })().catch((err: unknown) => res.writeHead(500).end(String(err)));
        } else if (path === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(renderStatusPage(this.snapshot()));
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
    this.log.info(`status page on http://${this.listen}/`);
  }

  address(): string | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `${a.address}:${a.port}` : undefined;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/**
 * A real Prometheus (Debian's `prometheus`) for interop tests: its own config, data
 * dir and free port in a temp folder, scraping the given targets every second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './tools.js';
import { freePort, waitForPort } from './net.js';
import { tempDir } from './gateway-config.js';
import { killAndWait } from './process.js';

export class Prometheus {
  readonly dir = tempDir('cg-prometheus-');
  port = 0;
  private proc: ChildProcess | undefined;
  private stderr = '';

  constructor(private readonly targets: string[]) {}

  async start(): Promise<void> {
    this.port = await freePort();
    const conf = join(this.dir, 'prometheus.yml');
    writeFileSync(
      conf,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: citygate-fleet',
        `    static_configs: [ { targets: [${this.targets.map((t) => `'${t}'`).join(', ')}] } ]`,
        '',
      ].join('\n'),
    );
    const p = spawn(
      requireTool('prometheus'),
      [`--config.file=${conf}`, `--storage.tsdb.path=${join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    p.stderr?.on('data', (d: Buffer) => {
      if (this.stderr.length < 20_000) this.stderr += d.toString();
    });
    this.proc = p;
    await waitForPort(this.port, '127.0.0.1', 20_000);
  }

  /** An instant query; the vector's samples as {labels, value}. */
  async query(q: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus query ${q} failed: ${body.error}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  log(): string {
    return this.stderr;
  }

  async stop(): Promise<void> {
    await killAndWait(this.proc, 'SIGTERM');
  }
}

/**
 * `citygate fleet`: every gateway on a broker at a glance, from their retained
 * `status` and `health`: a live table sorted by trouble, or (`--prometheus HOST:PORT`)
 * one Prometheus target for the whole fleet. The MQTT and HTTP code loads only when
 * the command runs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseDuration } from '../../core/units.js';
import { UserError } from '../../core/errors.js';

interface FleetCliOptions {
  url: string;
  root: string;
  username?: string;
  ca?: string;
  prometheus?: string;
  once?: boolean;
  json?: boolean;
  settle: string;
  interval: string;
  stale: string;
  limit?: string;
  expect?: string;
}

/** `--expect` file: one gateway id per line; blank lines and `#` comments ignored. */
function readExpected(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`--expect: cannot read ${file}`);
  }
  const ids: string[] = [];
  text.split('\n').forEach((line, i) => {
    const id = line.replace(/#.*/, '').trim();
    if (!id) return;
    if (/[/+#\s]/.test(id)) throw new UserError(`${file}:${i + 1}:1: "${id}" is not a gateway id (one id per line, no /, +, # or spaces)`);
    ids.push(id);
  });
  return [...new Set(ids)];
}

function ms(what: string, v: string): number {
  const n = parseDuration(v);
  if (n === undefined) throw new UserError(`${what}: expected a duration like "2s", got "${v}"`);
  return n;
}

export function registerFleet(program: Command): void {
  program
    .command('fleet')
    .description('every gateway on a broker, most trouble first (live table, or Prometheus metrics with --prometheus)')
    .requiredOption('--url <url>', 'broker URL, e.g. mqtts://broker.example:8883')
    .option('--root <prefix>', 'topic prefix above the gateway ids', 'citygate')
    .option('--username <name>', 'broker username (password from CITYGATE_FLEET_PASSWORD)')
    .option('--ca <file>', 'CA certificate (PEM) for mqtts:// or wss://')
    .option('--prometheus <host:port>', 'serve the fleet as Prometheus metrics on /metrics instead of a table')
    .option('--once', 'print the table once (after --settle) and exit')
    .option('--json', 'with --once: the rows as JSON')
    .option('--settle <duration>', 'how long to collect retained messages before the first table', '2s')
    .option('--interval <duration>', 'how often the live table is redrawn', '2s')
    .option('--stale <duration>', 'health older than this counts as trouble', '3m')
    .option('--limit <n>', 'show at most n rows (the most troubled)')
    .option('--expect <file>', 'gateway ids that should be there, one per line: shown as "missing" until seen')
    .action(async (o: FleetCliOptions) => {
      const { FleetCollector } = await import('../../fleet/collector.js');
      const { fleetTable } = await import('../../fleet/table.js');
      const settle = ms('--settle', o.settle);
      const interval = ms('--interval', o.interval);
      const limit = o.limit === undefined ? Infinity : Number(o.limit);
      if (o.limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UserError(`--limit: expected a whole number, got "${o.limit}"`);
      let ca: Buffer | undefined;
      if (o.ca) {
        try {
          ca = readFileSync(o.ca);
        } catch {
          throw new UserError(`--ca: cannot read ${o.ca}`);
        }
      }
      const collector = new FleetCollector({
        url: o.url,
        root: o.root,
        staleAfterS: Math.round(ms('--stale', o.stale) / 1000),
        ...(o.expect !== undefined ? { expected: readExpected(o.expect) } : {}),
        ...(o.username !== undefined ? { username: o.username } : {}),
        ...(process.env.CITYGATE_FLEET_PASSWORD !== undefined ? { password: process.env.CITYGATE_FLEET_PASSWORD } : {}),
        ...(ca ? { ca } : {}),
      });
      await collector.start();
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      try {
        if (o.prometheus) {
          const { serveFleetMetrics } = await import('../../fleet/prometheus.js');
          const { server, address } = await serveFleetMetrics(
            o.prometheus,
            () => collector.rows(),
            () => ({ brokerUp: collector.brokerUp, brokerDownS: collector.downForS(), malformed: collector.malformed }),
          );
          process.stdout.write(`fleet metrics for ${o.url} (${o.root}/+) on http://${address}/metrics\n`);
          await stopped;
          await new Promise<void>((r) => server.close(() => r()));
          return;
        }
        await new Promise((r) => setTimeout(r, settle));
        if (o.once) {
          const rows = collector.rows();
          process.stdout.write(o.json ? `${JSON.stringify(rows.slice(0, limit), null, 2)}\n` : fleetTable(rows, limit));
          return;
        }
        const draw = (): void => {
          const clear = process.stdout.isTTY ? '\x1b[H\x1b[2J' : '\n';
          process.stdout.write(`${clear}${new Date().toISOString()}  ${o.url}  ${o.root}/+\n${fleetTable(collector.rows(), limit)}`);
        };
        draw();
        const t = setInterval(draw, interval);
        await stopped;
        clearInterval(t);
      } finally {
        await collector.stop();
      }
    });
}

/**
 * `citygate queue stats | export | purge`: look into the disk buffer of an installed
 * gateway. Export never removes anything; purge refuses while the gateway runs and
 * records what it deleted as an event.
 */
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { formatBytes, humanDuration } from '../../config/units.js';
import { UserError } from '../../core/errors.js';
import { runningPid } from '../../runtime/pidfile.js';
import { openBuffer, readConfig, withConfig } from '../config-arg.js';
import { table } from '../table.js';

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('inspect, export or purge the disk buffer');

  withConfig(queue.command('stats').description('how much is waiting, per device, and how old'))
    .option('--json', 'print JSON')
    .action((opts: { config: string; json?: boolean }) => {
      const buffer = openBuffer(readConfig(opts.config));
      try {
        const s = buffer.stats();
        const devices = buffer.perDevice();
        if (opts.json) return void process.stdout.write(`${JSON.stringify({ ...s, devices })}\n`);
        const age = s.oldestCommittedAt === null ? '—' : humanDuration(Math.max(0, Date.now() - s.oldestCommittedAt));
        process.stdout.write(
          table(
            ['buffer', ''],
            [
              ['readings waiting', s.readings],
              ['stored size', formatBytes(s.bytes)],
              ['file size (db + wal)', formatBytes(s.fileBytes)],
              ['oldest reading', age],
              ['next seq', s.nextSeq],
              ['dropped (ever)', s.droppedTotal],
              ['rejected (ever)', s.rejectedTotal],
              ['events waiting', s.pendingEvents],
            ],
          ),
        );
        if (devices.length) process.stdout.write(`\n${table(['device', 'readings', 'first seq', 'last seq'], devices.map((d) => [d.device, d.readings, d.first_seq, d.last_seq]))}`);
      } finally {
        buffer.close();
      }
    });

  withConfig(queue.command('export').description('write buffered readings as NDJSON (one reading per line); removes nothing'))
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (opts: { config: string; out?: string }) => {
      const buffer = openBuffer(readConfig(opts.config));
      const out: NodeJS.WritableStream = opts.out ? createWriteStream(opts.out) : process.stdout;
      const total = buffer.stats().readings;
      const progress = Boolean(process.stderr.isTTY);
      let done = 0;
      let cursor = 0;
      try {
        for (;;) {
          const rows = buffer.read(cursor, 500);
          if (rows.length === 0) break;
          let chunk = '';
          for (const row of rows) {
            for (const r of JSON.parse(`[${row.json}]`) as object[]) chunk += `${JSON.stringify({ device: row.device, ...r })}\n`;
            done += row.count;
          }
          cursor = rows[rows.length - 1]!.id;
          if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
          if (progress) process.stderr.write(`\rexported ${done.toLocaleString()} / ${total.toLocaleString()} readings (${total ? Math.floor((done * 100) / total) : 100}%)`);
        }
      } finally {
        buffer.close();
      }
      if (progress) process.stderr.write('\n');
      if (opts.out) {
        await new Promise<void>((resolve) => out.end(() => resolve()));
        process.stderr.write(`wrote ${done} readings to ${opts.out}\n`);
      }
    });

  withConfig(queue.command('purge').description('delete buffered readings (recorded as an event); the gateway must be stopped'))
    .option('--device <id>', 'only this device')
    .option('--yes', 'really delete')
    .action(async (opts: { config: string; device?: string; yes?: boolean }) => {
      const config = readConfig(opts.config);
      const pid = runningPid(config.gateway.data_dir);
      if (pid !== undefined) throw new UserError(`the gateway is running (pid ${pid}) — stop it first: sudo systemctl stop citygate`);
      const buffer = openBuffer(config);
      try {
        const waiting = buffer.stats().readings;
        if (!opts.yes) {
          throw new UserError(`this deletes ${waiting} buffered readings${opts.device ? ` of ${opts.device}` : ''} that were never delivered — add --yes to do it (consider 'citygate queue export' first)`);
        }
        const n = await buffer.purge({
          ...(opts.device ? { device: opts.device } : {}),
          onProgress: (d) => process.stderr.isTTY && process.stderr.write(`\rdeleted ${d} readings`),
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        process.stdout.write(`purged ${n} readings; an event records the seq range\n`);
      } finally {
        buffer.close();
      }
    });
}

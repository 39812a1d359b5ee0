/**
 * `citygate queue stats | export | purge`: look into the disk buffer of an installed
 * gateway. stats and export only read (beside a running gateway, or from a read-only
 * card); purge takes the data_dir's lock, so it refuses while the gateway runs, and
 * records what it deleted as an event.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { formatBytes, humanDuration } from '../../core/units.js';
import { UserError, describeError } from '../../core/errors.js';
import { BufferReader } from '../../buffer/reader.js';
import { DirLock } from '../../buffer/dir-lock.js';
import { openBuffer, readConfig, withConfig } from '../config-arg.js';
import { table } from '../table.js';

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('inspect, export or purge the disk buffer');

  withConfig(queue.command('stats').description('how much is waiting, per device, and how old'))
    .option('--json', 'print JSON (snake_case, like health)')
    .action((opts: { config: string; json?: boolean }) => {
      const reader = new BufferReader(readConfig(opts.config).gateway.data_dir);
      try {
        const s = reader.stats();
        const devices = reader.perDevice();
        if (opts.json) {
          const out = {
            readings: s.readings,
            rows: s.rows,
            bytes: s.bytes,
            oldest_age_s: s.oldestAgeMs === null ? null : Math.round(s.oldestAgeMs / 1000),
            next_seq: s.nextSeq,
            dropped: s.droppedTotal,
            rejected: s.rejectedTotal,
            lost: s.lostTotal,
            pending_events: s.pendingEvents,
            devices,
          };
          return void process.stdout.write(`${JSON.stringify(out)}\n`);
        }
        process.stdout.write(
          table(
            ['buffer', ''],
            [
              ['readings waiting', s.readings],
              ['stored size', formatBytes(s.bytes)],
              ['oldest reading', s.oldestAgeMs === null ? '—' : humanDuration(s.oldestAgeMs)],
              ['next seq', s.nextSeq],
              ['dropped (ever)', s.droppedTotal],
              ['rejected (ever)', s.rejectedTotal],
              ['announced lost (ever)', s.lostTotal],
              ['events waiting', s.pendingEvents],
            ],
          ),
        );
        if (devices.length) process.stdout.write(`\n${table(['device', 'readings', 'first seq', 'last seq'], devices.map((d) => [d.device, d.readings, d.first_seq, d.last_seq]))}`);
      } finally {
        reader.close();
      }
    });

  withConfig(queue.command('export').description('write buffered readings as NDJSON (one reading per line); removes nothing'))
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action(async (opts: { config: string; out?: string }) => {
      const reader = new BufferReader(readConfig(opts.config).gateway.data_dir);
      try {
        await exportAll(reader, opts.out);
      } finally {
        reader.close();
      }
    });

  withConfig(queue.command('purge').description('delete buffered readings (recorded as an event); the gateway must be stopped'))
    .option('--device <id>', 'only this device')
    .option('--yes', 'really delete')
    .action(async (opts: { config: string; device?: string; yes?: boolean }) => {
      const config = readConfig(opts.config);
      const lock = new DirLock(config.gateway.data_dir);
      lock.acquire(); // refuses, naming the pid, while the gateway runs
      try {
        const reader = new BufferReader(config.gateway.data_dir);
        const present = reader.perDevice();
        reader.close();
        const waiting = present.filter((d) => opts.device === undefined || d.device === opts.device).reduce((n, d) => n + d.readings, 0);
        if (opts.device !== undefined && !present.some((d) => d.device === opts.device)) {
          const names = present.map((d) => d.device).join(', ') || 'none';
          throw new UserError(`no buffered readings of device "${opts.device}" — devices with readings waiting: ${names}`);
        }
        if (!opts.yes) {
          throw new UserError(`this deletes ${waiting} buffered readings${opts.device ? ` of ${opts.device}` : ''} that were never delivered — add --yes to do it (consider 'citygate queue export' first)`);
        }
        const buffer = openBuffer(config);
        try {
          const n = await buffer.purge({
            ...(opts.device ? { device: opts.device } : {}),
            onProgress: (d) => process.stderr.isTTY && process.stderr.write(`\rdeleted ${d} readings`),
          });
          if (process.stderr.isTTY) process.stderr.write('\n');
          process.stdout.write(`purged ${n} readings; an event records the seq range\n`);
        } finally {
          buffer.close();
        }
      } finally {
        lock.release();
      }
    });
}

/** NDJSON to stdout or a file; a closed pipe (`| head`) ends it quietly, a bad path is a user error. */
async function exportAll(reader: BufferReader, file: string | undefined): Promise<void> {
  const out: NodeJS.WritableStream = file ? await openOut(file) : process.stdout;
  let closed = false;
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') closed = true;
  });
  const total = reader.stats().readings;
  const progress = Boolean(process.stderr.isTTY) && file !== undefined;
  let done = 0;
  let cursor = 0;
  while (!closed) {
    const rows = reader.read(cursor, 500);
    if (rows.length === 0) break;
    let chunk = '';
    for (const row of rows) {
      for (const r of JSON.parse(`[${row.json}]`) as object[]) chunk += `${JSON.stringify({ device: row.device, ...r })}\n`;
      done += row.count;
    }
    cursor = rows[rows.length - 1]!.id;
    if (!out.write(chunk)) await new Promise<void>((r) => {
      out.once('drain', () => r());
      out.once('error', () => r());
    });
    if (progress) process.stderr.write(`\rexported ${done.toLocaleString()} / ${total.toLocaleString()} readings (${total ? Math.floor((done * 100) / total) : 100}%)`);
  }
  if (progress) process.stderr.write('\n');
  if (file) {
    await new Promise<void>((resolve) => out.end(() => resolve()));
    process.stderr.write(`wrote ${done} readings to ${file}\n`);
  }
}

function openOut(file: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const s = createWriteStream(file, { flags: 'w' });
    s.once('open', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      const why = { ENOENT: 'its folder does not exist', EISDIR: 'it is a folder', EACCES: 'permission denied', EROFS: 'read-only file system' }[err.code ?? ''] ?? describeError(err);
      reject(new UserError(`cannot write ${file}: ${why}`));
    });
  });
}

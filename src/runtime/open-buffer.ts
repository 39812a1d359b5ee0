/**
 * Opening the gateway's durable buffer at start, with what the operator must hear about
 * it: a boot id the service cannot read, a pid file that cannot be written (advisory
 * only), what the buffer holds, and a database that was damaged and moved aside.
 *
 * Contract: the caller holds the data_dir lock; if the buffer cannot be opened the lock
 * is released and the error thrown (the gateway does not start); otherwise the pid file
 * is written (or a warning says why not) and the buffer returned open.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { GatewayConfig } from '../config/schema.js';
import { SqliteBuffer, type SqliteBufferOptions } from '../buffer/sqlite-buffer.js';
import type { DirLock } from '../buffer/dir-lock.js';
import { systemTimeSources } from '../buffer/buffer-time.js';
import { writePid } from '../buffer/pidfile.js';
import { rowFormatFor } from '../release/buffer-format.js';
import { PACKAGE_ROOT } from '../version.js';

export function openGatewayBuffer(c: GatewayConfig, clock: Clock, log: Logger, lock: DirLock, hooks: Pick<SqliteBufferOptions, 'onFault' | 'onEvent'>): SqliteBuffer {
  const time = clock === systemClock ? systemTimeSources() : undefined;
  // Once per start: without a boot id every start is taken for a reboot (boot-id.ts says why that side).
  if (time?.bootIdProblem) log.warn({ boot_id: time.bootIdSource }, `buffer: ${time.bootIdProblem}`);
  const { rowFormat, why } = rowFormatFor(PACKAGE_ROOT);
  if (why) log.info(`buffer: ${why}`);
  let buffer: SqliteBuffer;
  try {
    buffer = new SqliteBuffer({
      rowFormat,
      dataDir: c.gateway.data_dir,
      maxBytes: c.buffer.max_bytes,
      maxAgeMs: c.buffer.max_age,
      onFull: c.buffer.on_full,
      onCorrupt: c.buffer.on_corrupt,
      synchronous: c.buffer.synchronous,
      maxReadingsPerRow: c.uplink.batch.max_readings,
      clock,
      ...(time ? { time } : {}),
      ...hooks,
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  try {
    writePid(c.gateway.data_dir);
  } catch (err) {
    // Advisory only (the data_dir lock keeps `queue purge` out): never a reason not to start.
    log.warn(`could not write ${join(c.gateway.data_dir, 'citygate.pid')}: ${describeError(err)} — continuing`);
  }
  const opened = buffer.stats();
  log.info({ file: join(c.gateway.data_dir, 'buffer.db'), readings: opened.readings, next_seq: opened.nextSeq, disk: opened.disk }, 'buffer open');
  if (buffer.replaced) {
    log.error(
      { file: buffer.file, moved_to: buffer.replaced.movedTo },
      `buffer: ${buffer.file} was ${buffer.replaced.detail}: moved aside as ${buffer.replaced.movedTo} and a new buffer started (the seqs it may have held are announced as buffer_lost)`,
    );
  }
  return buffer;
}

/**
 * What a SqliteBuffer (sqlite-buffer.ts) is opened with: the config's buffer section, the
 * clock, and the knobs tests and the runtime set. Defaults are those stated per field.
 */
import type { Clock } from '../core/clock.js';
import type { TimeSources } from './buffer-time.js';
import type { RowFormat } from './codec.js';

export interface SqliteBufferOptions {
  dataDir: string;
  maxBytes: number;
  maxAgeMs: number;
  onFull: 'drop_oldest' | 'reject_newest';
  synchronous: 'full' | 'normal';
  maxReadingsPerRow: number;
  clock: Clock;
  /** What to do with a database that fails to open or check (default move_aside). */
  onCorrupt?: 'move_aside' | 'refuse';
  /** Monotonic time and boot id for ages (default: from `clock`, one boot). */
  time?: TimeSources;
  /** Apply acks on their own once this many rows are pending (default 1000) … */
  ackFlushRows?: number;
  /** … or this long after the first pending ack, if no commit came first (default 30 s). */
  ackFlushMs?: number;
  /** Most informational events kept waiting; loss events are always kept. */
  maxEvents?: number;
  /**
   * The row format written (codec.ts; default 2). 1 when a release this gateway may be
   * rolled back to reads only format 1 (src/release/buffer-format.ts, rowFormatFor).
   */
  rowFormat?: RowFormat;
  /** Fewest seqs reserved in the ledger at a time (default 1000; more at high rates). */
  seqBlock?: number;
  /** Free space left alone on the file system (default 2 %, at most 16 MiB). */
  reserveBytes?: number;
  /** A fault in a path that must not throw (applying acks): for the log. */
  onFault?: (what: string, err: unknown) => void;
  /** Told of every event as it is recorded (the status page's "last events"); must not throw. */
  onEvent?: (event: Record<string, unknown>) => void;
}

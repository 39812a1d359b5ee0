/**
 * What the gateway says about its group commits: a full buffer dropping or rejecting
 * (once a minute at most, with how many were held back), a commit that fails (the disk?
 * rate-limited the same way) and the buffer working again. Every commit turn, failed or
 * not, is a sign of life for the watchdog (`turned`); every turn may have given the
 * uplink something to send (`notify`).
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import { LogLimiter } from '../core/log-limiter.js';
import type { GroupCommitOptions } from '../buffer/group-commit.js';

export interface CommitReportDeps {
  clock: Clock;
  log: Logger;
  dataDir: string;
  /** A commit was tried (whatever came of it). */
  turned: () => void;
  notify: () => void;
  /** Readings dropped because commits failed, so far. */
  lostToFailure: () => number;
  /** The disk's state may have changed: look again. */
  watchDisk: () => void;
}

export function commitReports(d: CommitReportDeps): Pick<GroupCommitOptions, 'onCommit' | 'onError' | 'onRecover'> {
  const fullLog = new LogLimiter(d.clock);
  const faults = new LogLimiter(d.clock);
  return {
    onCommit: (r) => {
      d.turned();
      if (r.dropped || r.rejected) {
        // A full buffer drops on every commit: say so once a minute, with the repeats.
        const { log, repeats } = fullLog.hit();
        if (log) d.log.warn({ ...r, repeats }, 'buffer full: the oldest readings are dropped (or new ones rejected) to make room — each range is announced on events');
      }
      d.notify();
    },
    onError: (err, pending) => {
      d.turned();
      const { log, repeats } = faults.hit();
      if (log) {
        d.log.error(
          { pending, repeats, dropped: d.lostToFailure() },
          `buffer: commit failed (${describeError(err)}) — is the disk full? df -h ${d.dataDir}; readings wait in memory, the oldest are dropped and announced (disk_full) once it is full`,
        );
      }
      d.watchDisk();
      d.notify();
    },
    onRecover: () => {
      const { repeats } = faults.clear();
      d.log.warn({ repeats, dropped: d.lostToFailure() }, 'buffer: commits work again');
      d.watchDisk();
    },
  };
}

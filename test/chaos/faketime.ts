/**
 * The gateway's wall clock under libfaketime (Debian package `faketime`): the child
 * runs with the library preloaded and reads its offset from a file on every call
 * (FAKETIME_NO_CACHE=1), so the harness steps the child's wall clock by rewriting the
 * file. Monotonic time is left alone (FAKETIME_DONT_FAKE_MONOTONIC=1): only what NTP
 * would move moves.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KNOWN = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/arm-linux-gnueabihf/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

/** Path of libfaketime.so.1, from the installed package's file list; throws naming the package. */
export function libfaketimePath(): string {
  const r = spawnSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8' });
  const listed = r.status === 0 ? r.stdout.split('\n').find((l) => l.endsWith('/libfaketime.so.1')) : undefined;
  const found = [listed, ...KNOWN].find((p): p is string => p !== undefined && existsSync(p));
  if (!found) throw new Error('libfaketime.so.1 not found — the clock-step fault needs it: apt-get install -y faketime');
  return found;
}

export class FakeClock {
  readonly file: string;
  offsetMs = 0;

  constructor(dir: string, private readonly lib = libfaketimePath()) {
    this.file = join(dir, 'faketime.rc');
    this.set(0);
  }

  /** Environment for the child process. */
  env(): Record<string, string> {
    return {
      LD_PRELOAD: this.lib,
      FAKETIME_TIMESTAMP_FILE: this.file,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }

  /** Put the child's wall clock `offsetMs` away from real time (written atomically). */
  set(offsetMs: number): void {
    const secs = Math.round(offsetMs / 1000);
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${secs >= 0 ? '+' : ''}${secs}\n`);
    renameSync(tmp, this.file);
    this.offsetMs = secs * 1000;
  }
}

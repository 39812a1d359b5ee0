/**
 * Move one child process's wall clock with libfaketime (Debian `faketime`): the
 * offset lives in a file the child re-reads at every clock call, so a test can step
 * the clock of a running gateway. The monotonic clock is left alone, as NTP leaves it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './gateway-config.js';
import { LIBFAKETIME } from './needs.js';


export class FakeTime {
  readonly file = join(tempDir('cg-faketime-'), 'offset');
  readonly lib: string;

  constructor() {
    const lib = LIBFAKETIME.find((p) => existsSync(p));
    if (!lib) throw new Error('libfaketime is not installed — install it: apt-get install -y faketime');
    this.lib = lib;
    this.set('+0');
  }

  /** An offset like "+20d", "-3h", "+0". */
  set(offset: string): void {
    writeFileSync(this.file, `${offset}\n`);
  }

  env(): NodeJS.ProcessEnv {
    return { LD_PRELOAD: this.lib, FAKETIME_TIMESTAMP_FILE: this.file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  }
}

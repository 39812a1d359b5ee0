/**
 * A directory named on the command line for the CLI to write into (`schema --docs`,
 * `keys generate --out`): created if missing; a path that cannot be one is the
 * user's mistake, said in one line (exit 1), not a runtime failure with a raw errno.
 */
import { makeDirs } from '../core/make-dirs.js';
import { UserError } from '../core/errors.js';

const WHY: Record<string, string> = {
  ENOENT: 'this file system does not take directories there',
  ENOTDIR: 'a file is in the way',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left',
};

export function outputDir(flag: string, dir: string, mode?: number): void {
  try {
    makeDirs(dir, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new UserError(`${flag} ${dir}: cannot create it (${WHY[code] ?? code})`);
  }
}

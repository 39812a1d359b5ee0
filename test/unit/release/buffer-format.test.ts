/**
 * The two-update rollout of a buffer format (src/release/buffer-format.ts): a release
 * writes the newest format it reads only when the release a rollback would return to
 * reads it too, and `citygate update` refuses what a rollback could not read.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUFFER_FORMAT, formatProblem, RELEASE_FORMATS, rowFormatFor } from '../../../src/release/buffer-format.js';
import { tempDir } from '../../helpers/gateway-config.js';

/** `<prefix>/releases/<id>` with a release.json declaring `formats`. */
function release(prefix: string, id: string, formats: { buffer_format: number; buffer_reads?: number }): string {
  const dir = join(prefix, 'releases', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'release.json'), JSON.stringify({ name: 'citygate', version: id, id, arch: 'x64', node: '20.0.0', ...formats }));
  return dir;
}

const OLD = { buffer_format: 1 }; // every release before format 2
const THIS = RELEASE_FORMATS;

describe('which row format a gateway writes', () => {
  it('this build declares: writes format 1 at the least, reads format 2', () => {
    expect(THIS).toEqual({ buffer_format: 1, buffer_reads: 2 });
    expect(BUFFER_FORMAT).toBe(2);
  });

  it('not an installed release (a checkout, npm): format 2', () => {
    expect(rowFormatFor(tempDir())).toEqual({ rowFormat: 2 });
  });

  it('installed with nothing to roll back to (first install from the card): format 2', () => {
    const prefix = tempDir();
    const self = release(prefix, 'b', THIS);
    symlinkSync('releases/b', join(prefix, 'current'));
    expect(rowFormatFor(self)).toEqual({ rowFormat: 2 });
  });

  it('updated from a release that reads only format 1: format 1, and the log says why', () => {
    const prefix = tempDir();
    release(prefix, 'a', OLD);
    const self = release(prefix, 'b', THIS);
    symlinkSync('releases/b', join(prefix, 'current'));
    symlinkSync('releases/a', join(prefix, 'previous'));
    const r = rowFormatFor(self);
    expect(r.rowFormat).toBe(1);
    expect(r.why).toMatch(/rollback would return to \(a\) reads only format 1/);
  });

  it('the next update, from a release that reads format 2: format 2', () => {
    const prefix = tempDir();
    release(prefix, 'b', THIS);
    const self = release(prefix, 'c', THIS);
    symlinkSync('releases/b', join(prefix, 'previous'));
    expect(rowFormatFor(self)).toEqual({ rowFormat: 2 });
  });

  it('previous pointing at itself, or at a release that is gone: format 2', () => {
    const prefix = tempDir();
    const self = release(prefix, 'b', THIS);
    symlinkSync('releases/b', join(prefix, 'previous'));
    expect(rowFormatFor(self)).toEqual({ rowFormat: 2 });
    const other = tempDir();
    const alone = release(other, 'b', THIS);
    symlinkSync('releases/gone', join(other, 'previous'));
    expect(rowFormatFor(alone)).toEqual({ rowFormat: 2 });
  });
});

describe('what an update refuses', () => {
  it('from an older release (reads 1) to this one: allowed, the buffer on disk format 1', () => {
    expect(formatProblem(1, 1, THIS)).toBeUndefined();
    expect(formatProblem(undefined, 1, THIS)).toBeUndefined();
  });

  it('back to an older release once the buffer is format 2: refused, it could not read it', () => {
    expect(formatProblem(2, 2, OLD)).toMatch(/the buffer on disk is format 2; the new release reads at most format 1/);
    expect(formatProblem(1, 2, OLD)).toBeUndefined();
  });

  it('from an older release to one that writes format 2 at the least: refused, a rollback could not read the buffer', () => {
    expect(formatProblem(1, 1, { buffer_format: 2 })).toMatch(/a rollback could not read the buffer/);
    expect(formatProblem(2, 2, { buffer_format: 2 })).toBeUndefined();
  });
});

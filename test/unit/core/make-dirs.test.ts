/**
 * makeDirs (src/core/make-dirs.ts): mkdir -p that ends. Node's recursive mkdirSync spins
 * forever under /proc, so that case runs in a child process with a time limit: a
 * regression fails the test instead of hanging the worker.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs } from '../../../src/core/make-dirs.js';
import { ROOT } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';

/** Runs `code` (an expression using makeDirs) in a child; its stdout, or 'timeout' if it did not end in 15 s. */
function inChild(code: string): string {
  const src = `import { makeDirs } from './src/core/make-dirs.ts'; try { ${code}; console.log('made') } catch (e) { console.log(e.code) }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { cwd: ROOT, timeout: 15_000, encoding: 'utf8' });
  return r.error || r.signal ? 'timeout' : r.stdout.trim();
}

describe('makeDirs', () => {
  it('creates missing parents with the mode, leaves an existing directory alone', () => {
    const d = tempDir('cg-mkdirs-');
    makeDirs(join(d, 'a/b/c'), 0o700);
    expect(statSync(join(d, 'a/b/c')).mode & 0o777).toBe(0o700);
    expect(statSync(join(d, 'a')).mode & 0o777).toBe(0o700);
    mkdirSync(join(d, 'open'), { mode: 0o755 });
    makeDirs(join(d, 'open'), 0o700);
    expect(statSync(join(d, 'open')).mode & 0o777).toBe(0o755);
  });

  it('a file in the way is ENOTDIR', () => {
    const d = tempDir('cg-mkdirs-');
    writeFileSync(join(d, 'f'), '');
    expect(() => makeDirs(join(d, 'f/x'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it('under /proc: refused at once with ENOENT — where Node’s recursive mkdir never returns', () => {
    expect(inChild("makeDirs('/proc/citygate-probe/data')")).toBe('ENOENT');
    // The reason for this file: the same call with Node's own recursive mkdir does not end.
    const node = spawnSync(process.execPath, ['-e', "require('fs').mkdirSync('/proc/citygate-probe/data', { recursive: true })"], { timeout: 3_000 });
    expect(node.signal ?? node.status, 'Node fixed its recursive mkdir under /proc: makeDirs may go').toBe('SIGTERM');
  });
});

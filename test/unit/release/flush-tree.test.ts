/**
 * A release is on the card before anything points at it (src/release/flush-tree.ts,
 * docs/field-notes.md#power-cut-after-an-update): `unpack` flushes the unpacked tree before it
 * returns, so `current` never points at files still in the page cache; the flush is one
 * `sync -f`, or an fsync of every file and directory when that fails.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flushTree, fsyncWalk } from '../../../src/release/flush-tree.js';
import { ReleaseLayout } from '../../../src/release/layout.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { tinyBundle } from './sign-helpers.js';

function tree(): string {
  const dir = join(tempDir('cg-flush-'), 'rel');
  mkdirSync(join(dir, 'node_modules', 'a'), { recursive: true });
  writeFileSync(join(dir, 'release.json'), '{}');
  writeFileSync(join(dir, 'node_modules', 'a', 'index.js'), 'x');
  writeFileSync(join(dir, 'node_modules', 'a', 'package.json'), '{}');
  return dir;
}

describe('flushing an unpacked release', () => {
  it('is one syncfs (`sync -f`) where it works', async () => {
    expect(await flushTree(tree())).toBe('syncfs');
  });

  it('falls back to an fsync of every file and directory when syncfs fails', async () => {
    const dir = tree();
    const r = await flushTree(dir, () => Promise.reject(new Error('sync: not found')));
    expect(r).toBe('walk');
    // 3 files and 3 directories (rel, node_modules, a)
    expect(fsyncWalk(dir)).toBe(6);
  });

  it('unpack flushes the release before it returns: the link switch comes after', async () => {
    const work = tempDir('cg-flush-layout-');
    const log: string[] = [];
    const layout = new ReleaseLayout(join(work, 'opt'), async (dir) => {
      // What the flush sees is the whole release, already in its final place.
      log.push(`flush ${dir.slice(work.length)} (${readdirSync(dir).includes('release.json') ? 'complete' : 'partial'})`);
    });
    const m = await layout.unpack(await tinyBundle(join(work, 'b'), { version: '1.0.0' }));
    log.push('unpacked');
    layout.point('current', m.id);
    expect(log).toEqual([`flush /opt/releases/${m.id} (complete)`, 'unpacked']);
  });

  it('a failing flush fails the unpack: no release is left for a link to point at unflushed', async () => {
    const work = tempDir('cg-flush-fail-');
    const layout = new ReleaseLayout(join(work, 'opt'), () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
    await expect(layout.unpack(await tinyBundle(join(work, 'b'), { version: '1.0.0' }))).rejects.toThrow(/EIO/);
    expect(readdirSync(layout.releases).filter((n) => !n.startsWith('.'))).toEqual([]);
  });
});

/**
 * Release directories on a gateway (deploy/lib/common.sh makes the same layout):
 *   <prefix>/releases/<id>/   one per installed release
 *   <prefix>/current          symlink to the active one (the systemd unit runs it)
 *   <prefix>/previous         symlink to the one before (what a rollback returns to)
 * Links are switched atomically: a new link is renamed over the old one, so a power
 * cut leaves either the old or the new target, never none; and a release is on the card
 * (flush-tree.ts) before `unpack` returns, so no link ever points at files still in the
 * page cache.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../core/errors.js';
import { nodeFileOps } from '../core/durable-file.js';
import { readManifest, type Manifest } from './manifest.js';
import { flushTree } from './flush-tree.js';
import { makeDirs } from '../core/make-dirs.js';

const run = promisify(execFile);

export class ReleaseLayout {
  readonly releases: string;

  /** `flush`: puts an unpacked release on the card (tests watch it). */
  constructor(
    readonly prefix: string,
    private readonly flush: (dir: string) => Promise<unknown> = flushTree,
  ) {
    this.releases = join(prefix, 'releases');
  }

  /** The id `link` (current / previous) points at, or undefined. */
  linked(link: 'current' | 'previous'): string | undefined {
    try {
      return basename(readlinkSync(join(this.prefix, link)));
    } catch {
      return undefined;
    }
  }

  dir(id: string): string {
    return join(this.releases, id);
  }

  manifest(id: string): Manifest {
    return readManifest(this.dir(id));
  }

  /** Points `link` at releases/<id>, atomically. */
  point(link: 'current' | 'previous', id: string): void {
    if (!existsSync(this.dir(id))) throw new UserError(`no release ${id} in ${this.releases}`);
    const tmp = join(this.prefix, `.${link}.new`);
    rmSync(tmp, { force: true });
    symlinkSync(join('releases', id), tmp);
    renameSync(tmp, join(this.prefix, link));
    nodeFileOps.fsyncDir(this.prefix); // the switch itself survives a power cut
  }

  /**
   * Unpacks a bundle (a .tar.gz with one top directory holding release.json) into
   * releases/<id> and returns its manifest. An id already installed is replaced,
   * unless it is the current release.
   */
  async unpack(bundle: string): Promise<Manifest> {
    makeDirs(this.releases);
    const stage = join(this.releases, `.unpack-${process.pid}`);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage);
    try {
      await run('tar', ['-C', stage, '--no-same-owner', '-xzf', bundle], { maxBuffer: 1 << 20 });
      const top = readdirSync(stage);
      if (top.length !== 1) throw new UserError(`${bundle}: expected one top directory, found ${top.length}`);
      const unpacked = join(stage, top[0]!);
      const m = readManifest(unpacked);
      if (m.id === this.linked('current')) throw new UserError(`release ${m.id} is already the current one`);
      rmSync(this.dir(m.id), { recursive: true, force: true });
      renameSync(unpacked, this.dir(m.id));
      try {
        await this.flush(this.dir(m.id));
      } catch (err) {
        // Not on the card: leave nothing a link could be pointed at.
        rmSync(this.dir(m.id), { recursive: true, force: true });
        throw err;
      }
      return m;
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
}

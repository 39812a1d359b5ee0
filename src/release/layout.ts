/**
 * Release directories on a gateway (deploy/lib/common.sh makes the same layout):
 *   <prefix>/releases/<id>/   one per installed release
 *   <prefix>/current          symlink to the active one (the systemd unit runs it)
 *   <prefix>/previous         symlink to the one before (what a rollback returns to)
 * Links are switched atomically: a new link is renamed over the old one, so a power
 * cut leaves either the old or the new target, never none.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../core/errors.js';
import { nodeFileOps } from '../core/durable-file.js';
import { readManifest, type Manifest } from './manifest.js';

const run = promisify(execFile);

export class ReleaseLayout {
  readonly releases: string;

  constructor(readonly prefix: string) {
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
    mkdirSync(this.releases, { recursive: true });
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
      return m;
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
}

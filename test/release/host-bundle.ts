/**
 * Release bundles for this machine's architecture, made from the checkout's dist/
 * (run `npm run build` first), for the update and first-boot tests: the layout
 * deploy/release/build.sh produces, with the running node linked in as node/bin/node
 * and the checkout's node_modules linked, so no download and no compiler is needed.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../../src/release/checksum.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface HostBundleOptions {
  bufferFormat?: number;
  /** Changes the unpacked release before it is packed (e.g. to break it on purpose). */
  mutate?: (dir: string) => void;
}

/** Writes `<work>/citygate-<id>.tar.gz` and its .sha256; returns the tarball path. */
export async function hostBundle(work: string, version: string, opts: HostBundleOptions = {}): Promise<string> {
  const id = `${version}-${process.arch}-test`;
  const dir = join(work, 'build', `citygate-${id}`);
  mkdirSync(join(dir, 'node', 'bin'), { recursive: true });
  for (const d of ['bin', 'dist', 'boards', 'deploy']) cpSync(join(REPO, d), join(dir, d), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version }));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(process.execPath, join(dir, 'node', 'bin', 'node'));
  symlinkSync('deploy/install-bundle.sh', join(dir, 'install.sh'));
  const manifest = { name: 'citygate', version, id, arch: process.arch, node: process.versions.node, buffer_format: opts.bufferFormat ?? 0 };
  writeFileSync(join(dir, 'release.json'), JSON.stringify(manifest));
  opts.mutate?.(dir);
  const tgz = join(work, `citygate-${id}.tar.gz`);
  execFileSync('tar', ['-C', join(work, 'build'), '-czf', tgz, `citygate-${id}`]);
  writeFileSync(`${tgz}.sha256`, `${await sha256File(tgz)}  citygate-${id}.tar.gz\n`);
  return tgz;
}

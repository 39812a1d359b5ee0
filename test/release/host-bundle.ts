/**
 * Release bundles for this machine's architecture, made from the checkout's dist/
 * (run `npm run build` first), for the update and first-boot tests: the layout
 * deploy/release/build.sh produces, with the running node linked in as node/bin/node
 * and the checkout's node_modules linked, so no download and no compiler is needed.
 * Signed (`.sig`) like a release, by RELEASE_TEST_KEY: a key generated when the tests
 * start, never stored.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../../src/release/checksum.js';
import { RELEASE_FORMATS } from '../../src/release/buffer-format.js';
import { generateKeys } from '../../src/release/signature.js';
import { signBundle } from '../../src/release/signed-manifest.js';

const generated = generateKeys();
/** The test release key: `.pub` goes into a test trust directory (trustKeysIn). */
export const RELEASE_TEST_KEY = { id: generated.id, publicPem: generated.publicPem, private: createPrivateKey(generated.privatePem) };

/** Writes RELEASE_TEST_KEY's public half into `dir` (made 0755), as a technician installs one. */
export function trustKeysIn(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'release-test.pub'), RELEASE_TEST_KEY.publicPem, { mode: 0o644 });
  return dir;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface HostBundleOptions {
  bufferFormat?: number;
  /** Changes the unpacked release before it is packed (e.g. to break it on purpose). */
  mutate?: (dir: string) => void;
  /** Sign with these keys instead of RELEASE_TEST_KEY; [] leaves the bundle unsigned. */
  signers?: KeyObject[];
}

/** Writes `<work>/citygate-<id>.tar.gz`, its .sha256 and (signed) .sig; returns the tarball path. */
export async function hostBundle(work: string, version: string, opts: HostBundleOptions = {}): Promise<string> {
  const id = `${version}-${process.arch}-test`;
  const dir = join(work, 'build', `citygate-${id}`);
  rmSync(dir, { recursive: true, force: true }); // the same version again: a fresh build
  mkdirSync(join(dir, 'node', 'bin'), { recursive: true });
  for (const d of ['bin', 'dist', 'boards', 'deploy']) cpSync(join(REPO, d), join(dir, d), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version }));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(process.execPath, join(dir, 'node', 'bin', 'node'));
  symlinkSync('deploy/install-bundle.sh', join(dir, 'install.sh'));
  const manifest = { name: 'citygate', version, id, arch: process.arch, node: process.versions.node, ...(opts.bufferFormat !== undefined ? { buffer_format: opts.bufferFormat } : RELEASE_FORMATS) };
  writeFileSync(join(dir, 'release.json'), JSON.stringify(manifest));
  opts.mutate?.(dir);
  const tgz = join(work, `citygate-${id}.tar.gz`);
  execFileSync('tar', ['-C', join(work, 'build'), '-czf', tgz, `citygate-${id}`]);
  writeFileSync(`${tgz}.sha256`, `${await sha256File(tgz)}  citygate-${id}.tar.gz\n`);
  const signers = opts.signers ?? [RELEASE_TEST_KEY.private];
  rmSync(`${tgz}.sig`, { force: true });
  if (signers.length) await signBundle(tgz, signers);
  return tgz;
}

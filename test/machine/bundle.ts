/**
 * The release bundle the machine test installs in its guest (an x86-64 Debian).
 *
 * `MACHINE_BUNDLE=/path/citygate-…-linux-x64.tar.gz` (its .sha256 and .sig beside it, and
 * `MACHINE_BUNDLE_KEY=` the public key that signed it) uses a bundle built elsewhere. Otherwise one is made here from this checkout in the layout
 * deploy/release/build.sh produces (release.json, node/bin/node, dist/, production
 * node_modules, boards/, deploy/, install.sh): deploy/release/build.sh only targets the
 * Pi's architectures, so for x86-64 the runtime is a copy of the Node.js running this
 * test and the native addons are the checkout's own (built for that Node, on this same
 * Debian, so they load in the guest). Nothing is downloaded. It is signed with a key made
 * for the run, whose public half goes on the card (citygate/keys/), as a release key would.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../../src/release/checksum.js';
import { generateKeys, keyId } from '../../src/release/signature.js';
import { signBundle } from '../../src/release/signed-manifest.js';
import { RELEASE_FORMATS } from '../../src/release/buffer-format.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface Bundle {
  tgz: string;
  sha256: string;
  /** `<tgz>.sig`: the signed manifest first boot checks. */
  sig: string;
  /** The public key (PEM) that signed it, and its id (the name of its .pub file). */
  key: { id: string; publicPem: string };
  id: string;
}

/** The bundle for the guest: MACHINE_BUNDLE if set, else built into `work`. */
export async function guestBundle(work: string): Promise<Bundle> {
  const given = process.env.MACHINE_BUNDLE;
  if (given) {
    const keyFile = process.env.MACHINE_BUNDLE_KEY;
    if (!existsSync(given) || !existsSync(`${given}.sha256`) || !existsSync(`${given}.sig`)) throw new Error(`MACHINE_BUNDLE=${given}: the bundle, its .sha256 or its .sig is missing`);
    if (!keyFile || !existsSync(keyFile)) throw new Error('MACHINE_BUNDLE needs MACHINE_BUNDLE_KEY=<the public key that signed it>');
    const publicPem = readFileSync(keyFile, 'utf8');
    const manifest = execFileSync('tar', ['-xzOf', given, '--wildcards', '*/release.json'], { encoding: 'utf8', timeout: 120_000 });
    return { tgz: given, sha256: `${given}.sha256`, sig: `${given}.sig`, key: { id: keyId(createPublicKey(publicPem)), publicPem }, id: (JSON.parse(manifest) as { id: string }).id };
  }
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore', timeout: 300_000 });
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const id = `${pkg.version}-linux-x64-machine`;
  const stage = join(work, 'bundle', `citygate-${id}`);
  mkdirSync(join(stage, 'node', 'bin'), { recursive: true });
  for (const f of ['bin', 'dist', 'boards', 'deploy', 'package.json', 'package-lock.json', 'README.md']) cpSync(join(REPO, f), join(stage, f), { recursive: true });
  // node_modules is a link in a worktree: copy what it points at, then keep production only.
  execFileSync('cp', ['-a', `${join(REPO, 'node_modules')}/.`, join(stage, 'node_modules')], { timeout: 300_000 });
  execFileSync('npm', ['prune', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], { cwd: stage, stdio: 'ignore', timeout: 300_000 });
  copyFileSync(process.execPath, join(stage, 'node', 'bin', 'node'));
  execFileSync('chmod', ['0755', join(stage, 'node', 'bin', 'node')]);
  const manifest = { name: 'citygate', version: pkg.version, id, arch: 'x64', node: process.versions.node, ...RELEASE_FORMATS };
  writeFileSync(join(stage, 'release.json'), `${JSON.stringify(manifest)}\n`);
  symlinkSync('deploy/install-bundle.sh', join(stage, 'install.sh'));
  const name = `citygate-${pkg.version}-linux-x64.tar.gz`;
  const tgz = join(work, name);
  execFileSync('tar', ['-C', join(work, 'bundle'), '--owner=0', '--group=0', '-czf', tgz, `citygate-${id}`], { timeout: 300_000 });
  writeFileSync(`${tgz}.sha256`, `${await sha256File(tgz)}  ${name}\n`);
  const key = generateKeys();
  const sig = await signBundle(tgz, [createPrivateKey(key.privatePem)]);
  return { tgz, sha256: `${tgz}.sha256`, sig, key: { id: key.id, publicPem: key.publicPem }, id };
}

export interface Release {
  tgz: string;
  sig: string;
  id: string;
  version: string;
}

/** The next patch version of `v` ("0.1.0" → "0.1.1"): a release newer than the running one. */
export function nextVersion(v: string): string {
  const [core, ...rest] = v.split('-');
  const parts = core!.split('.').map(Number);
  parts[parts.length - 1]! += 1;
  return [parts.join('.'), ...rest].join('-');
}

/**
 * The same bundle again as release `version` (release.json's and package.json's version and
 * the id changed, its top folder renamed), signed by `signer`, in `dir`: what the update step installs.
 */
export async function rebundle(from: Bundle, dir: string, version: string, signer: KeyObject): Promise<Release> {
  const unpack = join(dir, 'unpack');
  mkdirSync(unpack, { recursive: true });
  execFileSync('tar', ['-C', unpack, '-xzf', from.tgz], { timeout: 300_000 });
  const [top] = readdirSync(unpack);
  const manifest = JSON.parse(readFileSync(join(unpack, top!, 'release.json'), 'utf8')) as { version: string; id: string };
  const id = manifest.id.replace(manifest.version, version);
  writeFileSync(join(unpack, top!, 'release.json'), `${JSON.stringify({ ...manifest, version, id })}\n`);
  // The running gateway reports package.json's version; the update's health gate waits for it.
  const pkgFile = join(unpack, top!, 'package.json');
  writeFileSync(pkgFile, `${JSON.stringify({ ...(JSON.parse(readFileSync(pkgFile, 'utf8')) as object), version }, null, 2)}\n`);
  renameSync(join(unpack, top!), join(unpack, `citygate-${id}`));
  const tgz = join(dir, `citygate-${version}-linux-x64.tar.gz`);
  execFileSync('tar', ['-C', unpack, '--owner=0', '--group=0', '-czf', tgz, `citygate-${id}`], { timeout: 300_000 });
  execFileSync('rm', ['-rf', unpack]);
  return { tgz, sig: await signBundle(tgz, [signer]), id, version };
}

/** A copy of `r` in `dir`, signed by `signer` instead (a stranger's signature). */
export async function resigned(r: Release, dir: string, signer: KeyObject): Promise<Release> {
  mkdirSync(dir, { recursive: true });
  const tgz = join(dir, basename(r.tgz));
  copyFileSync(r.tgz, tgz);
  return { ...r, tgz, sig: await signBundle(tgz, [signer]) };
}

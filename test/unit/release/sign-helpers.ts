/**
 * Small signed bundles for the signing tests: a real .tar.gz with one top directory
 * holding release.json, signed with keys generated at test time (never stored).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeys } from '../../../src/release/signature.js';
import { signBundle } from '../../../src/release/signed-manifest.js';
import { RELEASE_FORMATS } from '../../../src/release/buffer-format.js';

export interface TestKey {
  id: string;
  priv: KeyObject;
  pub: KeyObject;
  pubPem: string;
}

export function testKey(): TestKey {
  const k = generateKeys();
  return { id: k.id, priv: createPrivateKey(k.privatePem), pub: createPublicKey(k.publicPem), pubPem: k.publicPem };
}

/** A trust directory holding these keys' .pub files. */
export function trustDir(dir: string, keys: TestKey[]): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const k of keys) writeFileSync(join(dir, `${k.id}.pub`), k.pubPem, { mode: 0o644 });
  return dir;
}

export interface TinyBundle {
  version: string;
  arch?: string;
  bufferFormat?: number;
  /** Sign with these (none: unsigned, no .sig written). */
  signers?: TestKey[];
  next?: TestKey[];
  /** The build part of the release id (default "t"): another build of the same version. */
  build?: string;
}

/** `<work>/citygate-<version>-linux-x.tar.gz` (+ .sig when signed); returns its path. */
export async function tinyBundle(work: string, b: TinyBundle): Promise<string> {
  const arch = b.arch ?? process.arch;
  const id = `${b.version}-${arch}-${b.build ?? 't'}`;
  const top = join(work, 'src', `citygate-${id}`);
  mkdirSync(join(top, 'bin'), { recursive: true });
  writeFileSync(join(top, 'release.json'), JSON.stringify({ name: 'citygate', version: b.version, id, arch, node: process.versions.node, ...(b.bufferFormat !== undefined ? { buffer_format: b.bufferFormat } : RELEASE_FORMATS) }));
  writeFileSync(join(top, 'bin', 'citygate.js'), `// ${b.version}\n`);
  const tgz = join(work, `citygate-${b.version}-linux-${arch === 'arm' ? 'armv7' : arch}.tar.gz`);
  execFileSync('tar', ['-C', join(work, 'src'), '-czf', tgz, `citygate-${id}`]);
  if (b.signers?.length) await signBundle(tgz, b.signers.map((k) => k.priv), (b.next ?? []).map((k) => k.pub));
  return tgz;
}

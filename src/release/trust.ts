/**
 * The keys a gateway trusts for updates: every `*.pub` (PEM, ed25519) in a root-owned
 * directory, /etc/citygate/keys by default (installed by deploy/install.sh,
 * install-bundle.sh --keys, and first boot from the card's `citygate/keys/`).
 *
 * Its place is fixed, not configurable from gateway.yaml: the `config` downlink
 * command may rewrite gateway.yaml, and no remote message may widen what is trusted.
 * When read by root, the directory and each key must be root-owned and writable by
 * nobody else, or they are not trusted at all.
 *
 * Revoking a key is removing its file. New keys arrive only in a release's signed
 * manifest (`next_keys`, rotation): installKeys writes them as `<key id>.pub`.
 */
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { UserError } from '../core/errors.js';
import { keyId, publicKeyFrom, publicKeyPem } from './signature.js';
import { makeDirs } from '../core/make-dirs.js';

export const DEFAULT_TRUST_DIR = '/etc/citygate/keys';

export interface TrustedKey {
  id: string;
  file: string;
  key: KeyObject;
}

export interface TrustStore {
  dir: string;
  keys: Map<string, TrustedKey>;
  /** Files that are not usable keys, with why (listed by `citygate keys list`). */
  skipped: string[];
}

const asRoot = (): boolean => process.getuid?.() === 0;

function unsafe(st: Stats): string | undefined {
  if (st.uid !== 0) return 'not owned by root';
  if (st.mode & 0o022) return 'writable by others than root';
  return undefined;
}

/** The trusted keys; a UserError when the directory is missing or unsafe. */
export function loadTrust(dir: string = DEFAULT_TRUST_DIR): TrustStore {
  if (!existsSync(dir)) throw new UserError(`no trusted update keys: ${dir} does not exist (install the release signing key: deploy/README.md, "Update signing keys")`);
  if (asRoot()) {
    const why = unsafe(statSync(dir));
    if (why) throw new UserError(`${dir} is ${why}: its keys are not trusted`);
  }
  const keys = new Map<string, TrustedKey>();
  const skipped: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.pub')) continue;
    const file = join(dir, name);
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new UserError('not a file');
      const why = asRoot() ? unsafe(st) : undefined;
      if (why) throw new UserError(why);
      const key = publicKeyFrom(readFileSync(file, 'utf8'), file);
      keys.set(keyId(key), { id: keyId(key), file, key });
    } catch (err) {
      skipped.push(`${file}: ${(err as Error).message.replace(`${file}: `, '')}`);
    }
  }
  return { dir, keys, skipped };
}

/** Installs public keys (root-owned, 0644) not trusted yet; returns the ids added. */
export function installKeys(dir: string, keys: KeyObject[]): string[] {
  makeDirs(dir, 0o755);
  const have = loadTrust(dir).keys;
  const added: string[] = [];
  for (const key of keys) {
    const id = keyId(key);
    if (have.has(id)) continue;
    const file = join(dir, `${id}.pub`);
    writeFileSync(`${file}.tmp`, publicKeyPem(key), { mode: 0o644 });
    renameSync(`${file}.tmp`, file);
    added.push(id);
  }
  return added;
}

/**
 * The gate in front of every install: nothing is unpacked or run that a trusted key
 * did not sign. Refusals (each a one-line UserError starting "update refused:"):
 *   - unsigned: no `<bundle>.sig`, or one without signatures;
 *   - unknown key: signed only by keys this gateway does not trust (trust.ts);
 *   - bad signature: a trusted key's signature does not match the manifest;
 *   - hash mismatch: the bundle's bytes are not the ones the manifest pins;
 *   - another architecture, or a version older than the running one (a rollback
 *     attack) unless `allowDowngrade`, which only a person on the gateway can give.
 *
 * No time-of-check/time-of-use gap: stageVerified copies the bundle (opened without
 * following symlinks) into a directory only root can write, hashing while it copies,
 * and the caller unpacks that copy: the bytes checked are the bytes installed, whatever
 * happens to the original (which the unprivileged gateway could rewrite) afterwards.
 */
import { constants, createReadStream, createWriteStream, mkdtempSync, openSync, closeSync, fstatSync, readSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { UserError } from '../core/errors.js';
import { MAX_SIG_BYTES, parseSignatureFile, signatureValid } from './signature.js';
import { parseSignedManifest, type SignedManifest } from './signed-manifest.js';
import type { TrustStore } from './trust.js';
import { compareVersions } from './version-order.js';

export interface VerifyOptions {
  trust: TrustStore;
  /** This gateway's architecture (process.arch). */
  arch: string;
  /** The running release's version; undefined on a first install. */
  runningVersion?: string;
  /** Allows an older version: only from a flag given on the gateway itself. */
  allowDowngrade?: boolean;
}

export interface Verified {
  manifest: SignedManifest;
  keyId: string;
  /** Strictly newer than the running release (or a first install): only then are next_keys trusted. */
  forward: boolean;
}

const refuse = (why: string): UserError => new UserError(`update refused: ${why}`);

/** Checks a signature file's text against the trust store and this gateway (not the bundle's bytes). */
export function checkSignature(sigText: string | undefined, name: string, o: VerifyOptions): Verified {
  if (sigText === undefined) throw refuse(`${name} is unsigned (no ${name}.sig beside it): gateways install only signed releases`);
  const sig = parseSignatureFile(sigText, `${name}.sig`);
  if (sig.signatures.length === 0) throw refuse(`${name} is unsigned (its .sig holds no signature)`);
  if (o.trust.keys.size === 0) throw refuse(`no trusted update keys in ${o.trust.dir}: install the release signing key (deploy/README.md)`);
  const known = sig.signatures.filter((s) => o.trust.keys.has(s.keyId));
  if (known.length === 0)
    throw refuse(`${name} is signed by key ${sig.signatures.map((s) => s.keyId).join(', ')}, which this gateway does not trust (trusted: ${[...o.trust.keys.keys()].join(', ')})`);
  const good = known.find((s) => signatureValid(sig.payload, s, o.trust.keys.get(s.keyId)!.key));
  if (!good) throw refuse(`${name}: bad signature by key ${known.map((s) => s.keyId).join(', ')}: the manifest was altered or the signature is damaged`);
  let m: SignedManifest;
  try {
    m = parseSignedManifest(sig.payload, `${name}.sig`);
  } catch (err) {
    throw refuse((err as Error).message);
  }
  if (m.arch !== o.arch) throw refuse(`${name} is built for ${m.arch}; this gateway is ${o.arch}: use the linux-${o.arch === 'arm' ? 'armv7' : o.arch} bundle`);
  let forward = true;
  if (o.runningVersion !== undefined) {
    const c = compareVersions(m.version, o.runningVersion);
    if (c === undefined && !o.allowDowngrade) throw refuse(`cannot order version ${m.version} against the running ${o.runningVersion}`);
    if (c !== undefined && c < 0 && !o.allowDowngrade)
      throw refuse(`${name} is version ${m.version}, older than the running ${o.runningVersion} (a rollback attack?): going back is allowed only on the gateway itself, with citygate update --allow-downgrade`);
    forward = c !== undefined && c > 0;
  }
  return { manifest: m, keyId: good.keyId, forward };
}

/** Checks a bundle's digest and size against the signed manifest. */
export function checkDigest(v: Verified, name: string, sha256: string, bytes: number): void {
  if (sha256 !== v.manifest.sha256 || bytes !== v.manifest.bytes)
    throw refuse(`${name}: hash mismatch (sha256 ${sha256.slice(0, 16)}…, ${bytes} bytes; the signed manifest says ${v.manifest.sha256.slice(0, 16)}…, ${v.manifest.bytes} bytes): altered or damaged`);
}

/** Opens a regular file without following a symlink; a one-line refusal otherwise. */
function openPlain(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse(code === 'ELOOP' ? `${file} is a symbolic link` : `${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw refuse(`${file} is not a plain file`);
  }
  return fd;
}

/** The signature file beside `bundle`, or undefined when there is none. */
export function readSignatureBeside(bundle: string): string | undefined {
  let fd: number;
  try {
    fd = openPlain(`${bundle}.sig`);
  } catch (err) {
    if (/no such file/.test((err as Error).message)) return undefined;
    throw err;
  }
  try {
    const buf = Buffer.alloc(MAX_SIG_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_SIG_BYTES) throw refuse(`${bundle}.sig is too big for a signature file`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export interface Staged extends Verified {
  /** The verified copy: unpack this one. */
  file: string;
  /** Removes the staging directory. */
  remove(): void;
}

/**
 * Verifies `bundle` and its `.sig`, copying the bundle into a fresh 0700 directory
 * under `parent` while hashing it. Only that copy is ever unpacked.
 */
export async function stageVerified(bundle: string, parent: string, o: VerifyOptions): Promise<Staged> {
  const name = basename(bundle);
  const v = checkSignature(readSignatureBeside(bundle), name, o);
  const dir = mkdtempSync(join(parent, '.incoming-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const fd = openPlain(bundle);
    const file = join(dir, name);
    const hash = createHash('sha256');
    let bytes = 0;
    const limit = v.manifest.bytes;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > limit) return done(refuse(`${name}: hash mismatch (longer than the ${limit} bytes its signed manifest says)`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(createReadStream('', { fd }), count, createWriteStream(file, { mode: 0o600 }));
    checkDigest(v, name, hash.digest('hex'), bytes);
    return { ...v, file, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

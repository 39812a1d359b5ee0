/**
 * Downloading a release bundle for the `update` downlink command. The gateway may not
 * install anything itself (its unit keeps /opt read-only); it only fetches the bundle
 * into its data directory, checks it, and leaves a request for the root-run
 * citygate-update.service (request.ts). Rules:
 * - HTTPS only, certificates verified (the system's CAs, or `ca` when given);
 * - the file name must look like a bundle (`citygate-<version>-linux-<arch>.tar.gz`);
 * - at most `maxBytes`, counted while it streams (a wrong Content-Length cannot lie us
 *   into filling the disk the buffer needs);
 * - its signature is fetched from the same URL with `.sig` appended (none: unsigned);
 * - both are written as `.part`; `check` (the caller's signature and hash checks,
 *   verify-bundle.ts) decides before they are renamed into place, and a refusal leaves
 *   nothing behind. citygate-update.service verifies it all again, as root, on its own
 *   copy: what is checked here only lets the command's reply say no at once;
 * - both are fsynced before their rename and the directory after it
 *   (src/core/durable-file.ts), so a power cut never leaves a bundle that looks whole.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { get, type RequestOptions } from 'node:https';
import { basename, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { MAX_SIG_BYTES } from './signature.js';
import { nodeFileOps } from '../core/durable-file.js';
import { makeDirs } from '../core/make-dirs.js';

export const BUNDLE_NAME = /^citygate-[0-9A-Za-z.+_-]+-linux-(arm64|armv7|x64)\.tar\.gz$/;

export interface FetchOptions {
  url: string;
  /** Expected SHA-256, 64 hex digits, when the command gives one (the signature decides in any case). */
  sha256?: string;
  /** Where the bundle lands (the data directory's `updates/`). */
  dir: string;
  maxBytes: number;
  /** PEM file of the CA that signs the download server, if not a system CA. */
  ca?: string;
  timeoutMs?: number;
  /** Throws to refuse the download (nothing is kept): the signature file's text (undefined when the server has none), the bundle's digest and size. */
  check(f: { sig: string | undefined; sha256: string; bytes: number }): void;
}

export interface Fetched {
  bundle: string;
  bytes: number;
  sha256: string;
}

/** A bundle name from an https:// URL, or an error saying what is wrong with it. */
export function bundleNameOf(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL`);
  }
  if (u.protocol !== 'https:') throw new Error(`${u.protocol}// is refused: bundles are fetched over https:// only`);
  const name = basename(decodeURIComponent(u.pathname));
  if (!BUNDLE_NAME.test(name)) throw new Error(`"${name}" does not look like a release bundle (citygate-<version>-linux-<arch>.tar.gz)`);
  return name;
}

/** Flush a downloaded file's bytes to the card before it takes its final name. */
function durable(file: string): void {
  const fd = nodeFileOps.openRw(file, 0o600);
  try {
    nodeFileOps.fsync(fd);
  } finally {
    nodeFileOps.close(fd);
  }
}

export async function fetchBundle(o: FetchOptions): Promise<Fetched> {
  const name = bundleNameOf(o.url);
  const expected = o.sha256?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) throw new Error('sha256 must be 64 hex digits (the bundle\'s .sha256)');
  makeDirs(o.dir, 0o700);
  const bundle = join(o.dir, name);
  const part = `${bundle}.part`;
  const sigPart = `${bundle}.sig.part`;
  const opts: RequestOptions = { rejectUnauthorized: true, timeout: o.timeoutMs ?? 30_000 };
  if (o.ca) opts.ca = readFileSync(o.ca);
  const sigUrl = new URL(o.url);
  sigUrl.pathname += '.sig';
  try {
    const got = await download(o.url, opts, part, o.maxBytes, false);
    const { bytes, sum } = got!;
    if (expected !== undefined && sum !== expected) throw new Error(`checksum mismatch: expected ${expected}, got ${sum} — not the release the command names; nothing was installed`);
    const sig = (await download(sigUrl.href, opts, sigPart, MAX_SIG_BYTES, true)) ? readFileSync(sigPart, 'utf8') : undefined;
    o.check({ sig, sha256: sum, bytes });
    for (const [from, to] of [[sigPart, `${bundle}.sig`], [part, bundle]] as const) {
      if (from === sigPart && sig === undefined) continue;
      durable(from);
      nodeFileOps.rename(from, to);
    }
    nodeFileOps.fsyncDir(o.dir);
    return { bundle, bytes, sha256: sum };
  } finally {
    rmSync(part, { force: true });
    rmSync(sigPart, { force: true });
  }
}

/** Downloads `url` into `file`; undefined for a 404 when `absentOk`. */
function download(url: string, opts: RequestOptions, file: string, maxBytes: number, absentOk: boolean): Promise<{ bytes: number; sum: string } | undefined> {
  return new Promise((resolve, reject) => {
    const req = get(url, opts, (res: IncomingMessage) => {
      if (absentOk && res.statusCode === 404) {
        res.resume();
        resolve(undefined);
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`download failed: HTTP ${res.statusCode ?? '?'} from ${new URL(url).host} (${basename(new URL(url).pathname)})`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.destroy();
        reject(new Error(`${basename(new URL(url).pathname)} is ${declared} bytes, over ${absentOk ? 'the size of a signature file' : `commands.update.max_bytes (${maxBytes})`}`));
        return;
      }
      const hash = createHash('sha256');
      const out = createWriteStream(file, { mode: 0o600 });
      let bytes = 0;
      const fail = (err: Error): void => {
        res.destroy();
        out.destroy();
        reject(err);
      };
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) return fail(new Error(`the download passed ${absentOk ? 'the size of a signature file' : `commands.update.max_bytes (${maxBytes})`}; stopped`));
        hash.update(chunk);
      });
      res.on('error', fail);
      out.on('error', (err) => fail(new Error(`cannot write ${file}: ${err.message}`)));
      res.pipe(out);
      out.on('finish', () => resolve({ bytes, sum: hash.digest('hex') }));
    });
    req.on('timeout', () => req.destroy(new Error('download timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`download failed: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' ').trim())));
  });
}

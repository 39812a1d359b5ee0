/**
 * Downloading a release bundle for the `update` downlink command. The gateway may not
 * install anything itself (its unit keeps /opt read-only); it only fetches the bundle
 * into its data directory, checks it, and leaves a request for the root-run
 * citygate-update.service (request.ts). Rules:
 * - HTTPS only, certificates verified (the system's CAs, or `ca` when given);
 * - the file name must look like a bundle (`citygate-<version>-linux-<arch>.tar.gz`);
 * - at most `maxBytes`, counted while it streams (a wrong Content-Length cannot lie us
 *   into filling the disk the buffer needs);
 * - the SHA-256 from the command must match; the file is written as `.part` and renamed
 *   only then, with its `.sha256` beside it (what `citygate update` checks again);
 *   the bundle is fsynced before the rename and the `.sha256` written atomically
 *   (src/core/durable-file.ts), so a power cut never leaves a bundle that looks whole.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { get, type RequestOptions } from 'node:https';
import { basename, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { nodeFileOps, writeFileAtomic } from '../core/durable-file.js';

export const BUNDLE_NAME = /^citygate-[0-9A-Za-z.+_-]+-linux-(arm64|armv7|x64)\.tar\.gz$/;

export interface FetchOptions {
  url: string;
  /** Expected SHA-256, 64 hex digits. */
  sha256: string;
  /** Where the bundle lands (the data directory's `updates/`). */
  dir: string;
  maxBytes: number;
  /** PEM file of the CA that signs the download server, if not a system CA. */
  ca?: string;
  timeoutMs?: number;
}

export interface Fetched {
  bundle: string;
  bytes: number;
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

export async function fetchBundle(o: FetchOptions): Promise<Fetched> {
  const name = bundleNameOf(o.url);
  const expected = o.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new Error('sha256 must be 64 hex digits (the bundle\'s .sha256)');
  mkdirSync(o.dir, { recursive: true, mode: 0o750 });
  const bundle = join(o.dir, name);
  const part = `${bundle}.part`;
  const opts: RequestOptions = { rejectUnauthorized: true, timeout: o.timeoutMs ?? 30_000 };
  if (o.ca) opts.ca = readFileSync(o.ca);
  try {
    const { bytes, sum } = await download(o.url, opts, part, o.maxBytes);
    if (sum !== expected) throw new Error(`checksum mismatch: expected ${expected}, got ${sum} — not the release the command names; nothing was installed`);
    const fd = nodeFileOps.openRw(part, 0o640);
    try {
      nodeFileOps.fsync(fd);
    } finally {
      nodeFileOps.close(fd);
    }
    nodeFileOps.rename(part, bundle);
    nodeFileOps.fsyncDir(o.dir);
    writeFileAtomic(`${bundle}.sha256`, `${sum}  ${name}\n`, { mode: 0o640 });
    return { bundle, bytes };
  } finally {
    rmSync(part, { force: true });
  }
}

function download(url: string, opts: RequestOptions, file: string, maxBytes: number): Promise<{ bytes: number; sum: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, opts, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`download failed: HTTP ${res.statusCode ?? '?'} from ${new URL(url).host}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.destroy();
        reject(new Error(`the bundle is ${declared} bytes, over commands.update.max_bytes (${maxBytes})`));
        return;
      }
      const hash = createHash('sha256');
      const out = createWriteStream(file, { mode: 0o640 });
      let bytes = 0;
      const fail = (err: Error): void => {
        res.destroy();
        out.destroy();
        reject(err);
      };
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) return fail(new Error(`the download passed commands.update.max_bytes (${maxBytes}); stopped`));
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

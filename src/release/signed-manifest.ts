/**
 * The signed manifest of a release bundle: what a trusted key vouches for. It pins the
 * SHA-256 of the whole bundle archive, so the signature covers every byte that will be
 * unpacked and run, and repeats what the gateway decides on before unpacking anything
 * (version for the rollback check, architecture, buffer format). `next_keys` carries
 * public keys the gateway should trust from this release on (key rotation).
 *
 * Made by `citygate keys sign` (deploy/release/build.sh runs it); checked by
 * verify-bundle.ts. Kept in `<bundle>.sig` (signature.ts).
 */
import { execFile } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { sha256File } from './checksum.js';
import { manifestSchema } from './manifest.js';
import { publicKeyLine, signPayload } from './signature.js';

const run = promisify(execFile);

export const signedManifestSchema = z.object({
  format: z.literal(1),
  name: z.literal('citygate'),
  /** The bundle's file name when it was signed (informational: the hash is what binds). */
  bundle: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  version: z.string().min(1),
  id: z.string().regex(/^[\w.+-]+$/),
  arch: z.string(),
  buffer_format: z.number().int().min(0),
  buffer_reads: z.number().int().min(0).optional(),
  /** When it was signed (ISO 8601): informational, there is no expiry (docs/security.md). */
  signed_at: z.string(),
  /** Public keys (base64 SPKI DER) to trust from this release on. */
  next_keys: z.array(z.string()).default([]),
});

export type SignedManifest = z.infer<typeof signedManifestSchema>;

/** Parses the JSON line of a signature file; one line of reason when it is not a manifest. */
export function parseSignedManifest(payload: string, where: string): SignedManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    throw new UserError(`${where}: the signed manifest is not JSON`);
  }
  const r = signedManifestSchema.safeParse(raw);
  if (!r.success) throw new UserError(`${where}: not a valid signed manifest (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return r.data;
}

/** release.json from inside a bundle archive, read without unpacking it. */
async function releaseJsonOf(bundle: string): Promise<z.infer<typeof manifestSchema>> {
  let text: string;
  try {
    ({ stdout: text } = await run('tar', ['-xzOf', bundle, '--wildcards', '--no-wildcards-match-slash', '*/release.json'], { maxBuffer: 1 << 20 }));
  } catch {
    throw new UserError(`${bundle}: no release.json at the top of the archive: not a release bundle`);
  }
  const r = manifestSchema.safeParse(JSON.parse(text));
  if (!r.success) throw new UserError(`${bundle}: its release.json is not a valid release manifest`);
  return r.data;
}

/** The manifest for a bundle as it is on disk (hash, size, its release.json). */
export async function manifestFor(bundle: string, nextKeys: KeyObject[] = [], now = new Date()): Promise<SignedManifest> {
  const rel = await releaseJsonOf(bundle);
  return {
    format: 1,
    name: 'citygate',
    bundle: basename(bundle),
    sha256: await sha256File(bundle),
    bytes: statSync(bundle).size,
    version: rel.version,
    id: rel.id,
    arch: rel.arch,
    buffer_format: rel.buffer_format,
    ...(rel.buffer_reads !== undefined ? { buffer_reads: rel.buffer_reads } : {}),
    signed_at: now.toISOString(),
    next_keys: nextKeys.map(publicKeyLine),
  };
}

/** Writes `<bundle>.sig`: the manifest signed by `keys`. Returns its path. */
export async function signBundle(bundle: string, keys: KeyObject[], nextKeys: KeyObject[] = []): Promise<string> {
  const m = await manifestFor(bundle, nextKeys);
  const file = `${bundle}.sig`;
  writeFileSync(file, signPayload(JSON.stringify(m), keys));
  return file;
}


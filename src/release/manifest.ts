/**
 * release.json: what a release bundle says about itself. Written by
 * deploy/release/build.sh at the top of the bundle (and so of every release
 * directory under /opt/citygate/releases); read by `citygate update`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';

export const manifestSchema = z.object({
  name: z.literal('citygate'),
  version: z.string().min(1),
  /** Directory name under releases/: `<version>-<arch>-<build hash>`. */
  id: z.string().regex(/^[\w.+-]+$/),
  /** Node's process.arch of the runtime it carries: arm64, arm, x64. */
  arch: z.string(),
  /** The Node version it carries (node/bin/node). */
  node: z.string(),
  /**
   * The buffer format this release writes at the least: a release it replaces must read
   * it, or a rollback could not read the buffer (buffer-format.ts).
   */
  buffer_format: z.number().int().min(0),
  /** The newest buffer format it reads (absent: `buffer_format`); it writes it when safe. */
  buffer_reads: z.number().int().min(0).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

export const MANIFEST = 'release.json';

/** The manifest of the release in `dir`; a UserError naming the file when it is missing or wrong. */
export function readManifest(dir: string): Manifest {
  const file = join(dir, MANIFEST);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not a citygate release (${(err as Error).message})`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) throw new UserError(`${file}: not a valid release manifest`, r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`));
  return r.data;
}

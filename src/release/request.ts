/**
 * The hand-over between the gateway (which may not write /opt) and the root-run
 * `citygate-update.service`, through files in `<data_dir>/updates/`:
 *
 *   request.json  written by the gateway after it fetched and checked a bundle
 *                 (`update` command); its appearance starts citygate-update.path →
 *                 `citygate update --request …`, which takes it away first, so a
 *                 request runs once even if the update restarts everything.
 *   result.json   written by that run when it is done (updated, rolled back, refused);
 *                 the gateway announces it as an `update_result` event and removes it.
 *
 * Both are written to a temp name and renamed: never read half-written.
 */
import { chownSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';

export interface UpdateRequest {
  bundle: string;
  sha256: string;
  /** The command request id, so the result can be matched to it. */
  request_id: string | null;
  requested_at: number;
}

export interface UpdateOutcome {
  outcome: 'updated' | 'rolled-back' | 'rollback-failed' | 'refused';
  request_id: string | null;
  bundle: string;
  from?: string;
  to?: string;
  detail: string;
  finished_at: number;
}

export const updatesDir = (dataDir: string): string => join(dataDir, 'updates');
export const requestFile = (dataDir: string): string => join(updatesDir(dataDir), 'request.json');
const resultFile = (dataDir: string): string => join(updatesDir(dataDir), 'result.json');

function writeAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  // Written by root (citygate-update.service): 0600 and owned by the gateway's user
  // (the owner of updates/), or the gateway could not read its result.
  if (process.getuid?.() === 0) {
    const { uid, gid } = statSync(dirname(file));
    if (uid !== 0) chownSync(tmp, uid, gid);
  }
  renameSync(tmp, file);
}

export function pendingRequest(dataDir: string): boolean {
  return existsSync(requestFile(dataDir));
}

export function writeRequest(dataDir: string, r: UpdateRequest): void {
  writeAtomic(requestFile(dataDir), r);
}

/** Reads and removes the request (so it runs once); undefined if there is none. */
export function takeRequest(file: string): UpdateRequest | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  // Written by the unprivileged gateway: read by root as untrusted input, refused in one line.
  let r: Partial<UpdateRequest>;
  try {
    r = JSON.parse(text) as Partial<UpdateRequest>;
  } catch {
    throw new UserError(`update refused: ${file} is not JSON`);
  }
  if (typeof r?.bundle !== 'string') throw new UserError(`update refused: ${file} names no bundle`);
  return { bundle: r.bundle, sha256: String(r.sha256 ?? ''), request_id: r.request_id ?? null, requested_at: Number(r.requested_at ?? 0) };
}

export function writeOutcome(dataDir: string, o: UpdateOutcome): void {
  writeAtomic(resultFile(dataDir), o);
}

/** Reads and removes a finished update's outcome; undefined if there is none (or it is unreadable: then removed too). */
export function takeOutcome(dataDir: string): UpdateOutcome | undefined {
  const file = resultFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as UpdateOutcome;
  } catch {
    return undefined;
  } finally {
    rmSync(file, { force: true });
  }
}

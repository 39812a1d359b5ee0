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
 * Both are written atomically (src/core/durable-file.ts: never read half-written, never
 * empty after a power cut) and removed durably (a taken request does not come back).
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { nodeFileOps, removeFileDurably, writeFileAtomic, type FileOps } from '../core/durable-file.js';

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

function writeAtomic(file: string, value: unknown, ops: FileOps): void {
  // Written by root (citygate-update.service): 0600 and owned by the gateway's user
  // (the owner of updates/), or the gateway could not read its result.
  let owner: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0 && ops === nodeFileOps) {
    const { uid, gid } = statSync(dirname(file));
    if (uid !== 0) owner = { uid, gid };
  }
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, owner, ops });
}

function readIfThere(file: string, ops: FileOps): string | undefined {
  try {
    return ops.readFile(file).toString('utf8');
  } catch {
    return undefined;
  }
}

export function pendingRequest(dataDir: string, ops: FileOps = nodeFileOps): boolean {
  return readIfThere(requestFile(dataDir), ops) !== undefined;
}

export function writeRequest(dataDir: string, r: UpdateRequest, ops: FileOps = nodeFileOps): void {
  writeAtomic(requestFile(dataDir), r, ops);
}

/** Reads and removes the request (so it runs once); undefined if there is none. */
export function takeRequest(file: string, ops: FileOps = nodeFileOps): UpdateRequest | undefined {
  const text = readIfThere(file, ops);
  if (text === undefined) return undefined;
  removeFileDurably(file, ops);
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

export function writeOutcome(dataDir: string, o: UpdateOutcome, ops: FileOps = nodeFileOps): void {
  writeAtomic(resultFile(dataDir), o, ops);
}

/** Reads and removes a finished update's outcome; undefined if there is none (or it is unreadable: then removed too). */
export function takeOutcome(dataDir: string, ops: FileOps = nodeFileOps): UpdateOutcome | undefined {
  const file = resultFile(dataDir);
  const text = readIfThere(file, ops);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as UpdateOutcome;
  } catch {
    return undefined;
  } finally {
    removeFileDurably(file, ops);
  }
}

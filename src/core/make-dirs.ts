/**
 * `mkdir -p` that always ends. Node's own `mkdirSync(p, { recursive: true })` never
 * returns when `p` is under /proc: procfs answers mkdir with ENOENT though the parent
 * exists, and Node walks up and retries forever, at full CPU and deaf to SIGTERM (the
 * event loop never runs). A `gateway.data_dir: /proc/…` typo hung the gateway that way
 * (docs/field-notes.md#recursive-mkdir-on-proc). Here: one mkdir per missing component,
 * and the first refusal is thrown with its code.
 */
import { mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Create `dir` and its missing parents (each with `mode`, as mkdir -p -m would); an existing directory is left alone. */
export function makeDirs(dir: string, mode?: number): void {
  let at = '';
  for (const part of resolve(dir).split('/').filter(Boolean)) {
    at += `/${part}`;
    if (isDirectory(at)) continue;
    try {
      mkdirSync(at, mode === undefined ? undefined : { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(at)) continue; // made meanwhile
      throw err;
    }
  }
}

/** True for a directory; false when nothing is there; throws when it cannot tell (EACCES) or a file is in the way. */
function isDirectory(path: string): boolean {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (st.isDirectory()) return true;
  throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', path });
}

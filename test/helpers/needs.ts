/**
 * What a unit test needs beyond Node, and what happens when it is missing. `npm test`
 * runs on a machine with nothing but Node: a test that needs a system tool, root, or a
 * disk-backed temp directory checks with `need(ctx, ...)` first and, when something is
 * missing, is skipped with a named reason ("needs promtool — apt-get install -y
 * prometheus"). test/helpers/skip-reporter.ts lists every such skip at the end of the
 * run with how to run it. Under CI (CI set, not "false"/"0") nothing may be skipped:
 * the same check fails the test, so a green CI still means everything ran.
 *
 * Tools are looked up on PATH only (not in fixed directories), so a run with a PATH
 * that lacks them shows what a machine without them sees.
 */
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The prefix every need-skip note starts with; the reporter keys on it. */
export const NEED_PREFIX = 'needs ';

/** The slice of vitest's test context `need` uses (ctx.skip with a note, ctx.annotate). */
export interface NeedContext {
  skip: (note?: string) => never | void;
  annotate: (message: string, type?: string) => unknown;
}

/** A missing requirement: what it is and how to provide it. */
export interface Missing {
  what: string;
  remedy: string;
}

export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/** Absolute path of `tool` on PATH, or undefined. */
export function onPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const INSTALL: Record<string, string> = {
  promtool: 'apt-get install -y prometheus (it brings promtool)',
  'systemd-analyze': 'apt-get install -y systemd',
  chromium: 'apt-get install -y chromium (or set CITYGATE_CHROMIUM to a Chromium binary)',
  faketime: 'apt-get install -y faketime',
  'qemu-io': 'apt-get install -y qemu-utils',
};

/** `tool` must be on PATH. */
export function tool(name: string): Missing | undefined {
  if (name === 'chromium' && process.env.CITYGATE_CHROMIUM) {
    return existsSync(process.env.CITYGATE_CHROMIUM) ? undefined : { what: `chromium (CITYGATE_CHROMIUM=${process.env.CITYGATE_CHROMIUM} does not exist)`, remedy: INSTALL.chromium! };
  }
  return onPath(name) ? undefined : { what: name, remedy: INSTALL[name] ?? `apt-get install -y ${name}` };
}

export const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1'];

/** libfaketime: Debian's faketime package (its `faketime` command on PATH and libfaketimeMT). */
export function libfaketime(): Missing | undefined {
  if (onPath('faketime') && LIBFAKETIME.some((p) => existsSync(p))) return undefined;
  return { what: 'libfaketime (the faketime command and libfaketimeMT.so.1)', remedy: INSTALL.faketime! };
}

/** Root, for what only root may do (mount a tmpfs). */
export function root(why: string): Missing | undefined {
  return process.getuid?.() === 0 ? undefined : { what: `root (${why})`, remedy: 'run as root: sudo env "PATH=$PATH" npm test' };
}

const MEMORY_FS = new Set([0x01021994 /* tmpfs */, 0x858458f6 /* ramfs */]);

function onDisk(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return !MEMORY_FS.has(Number(statfsSync(dir).type));
  } catch {
    return false;
  }
}

/**
 * A fresh temp directory on a block device (the OS temp dir, else /var/tmp), where
 * the kernel counts written bytes (/proc/self/io write_bytes; it never counts them on
 * tmpfs). `missing` says so when there is none; `dir` is then in the OS temp dir.
 */
export function diskTempDir(prefix: string): { dir: string; missing?: Missing } {
  const base = [tmpdir(), '/var/tmp'].find(onDisk);
  if (base) return { dir: mkdtempSync(join(base, prefix)) };
  return {
    dir: mkdtempSync(join(tmpdir(), prefix)),
    missing: { what: `a temp directory on a disk (${tmpdir()} and /var/tmp are in memory: the kernel counts no written bytes there)`, remedy: 'set TMPDIR to a directory on a disk' },
  };
}

function note(m: Missing): string {
  return `${NEED_PREFIX}${m.what} — ${m.remedy}`;
}

/**
 * Skip the running test, naming what is missing and how to provide it; under CI, fail
 * it instead. Call it first thing in the test (or in beforeEach).
 */
export function need(ctx: NeedContext, ...requirements: (Missing | undefined)[]): void {
  const missing = requirements.filter((m): m is Missing => m !== undefined);
  if (missing.length === 0) return;
  const text = missing.map(note).join('; ');
  if (inCi()) throw new Error(`CI runs every test, and this one ${text}`);
  ctx.skip(text);
}

/**
 * For one assertion that cannot hold on this machine (the rest of the test still
 * runs): returns false and records the reason, which the reporter lists with the
 * skipped tests; under CI, fails the test instead.
 */
export function canAssert(ctx: NeedContext, missing: Missing | undefined, assertion: string): boolean {
  if (!missing) return true;
  if (inCi()) throw new Error(`CI runs every assertion, and "${assertion}" ${note(missing)}`);
  ctx.annotate(`${assertion}: ${note(missing)}`, 'skipped-assertion');
  return false;
}

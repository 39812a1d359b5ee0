/**
 * Runs a benchmark worker (bench/workers/<name>.ts) in a child process and returns
 * its result. Two ways to run one:
 * - `built`: the sources transpiled to plain JS once per run (buildForChildren), run
 *   with bare `node`, as an installed citygate runs — no tsx loader in the process,
 *   so RSS and CPU are citygate's own;
 * - `tsx`: straight from the checkout with `node --import tsx`, as `npx citygate`
 *   runs in a clone.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { SERVICE_NODE_FLAGS } from '../../src/runtime/node-flags.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Transpiles src/ and bench/ (no type check) into `<dir>/build`; returns that root. */
export function buildForChildren(dir: string): string {
  const root = join(dir, 'build');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2022,
    verbatimModuleSyntax: true,
    sourceMap: false,
  };
  for (const top of ['src', 'bench']) {
    for (const file of tsFiles(join(REPO, top))) {
      const out = join(root, relative(REPO, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file }).outputText);
    }
  }
  copyFileSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

export interface WorkerRun {
  worker: string;
  args: Record<string, unknown>;
  timeoutMs: number;
  /** Transpiled build root (run with bare node), or undefined to run the .ts with tsx. */
  build?: string;
  /** Node flags instead of the default (the service's heap flags for `citygate`, none for others). */
  nodeFlags?: readonly string[];
}

export function runWorker<R>(w: WorkerRun): Promise<R> {
  // citygate runs with the service's heap flags (as systemd and bin/citygate.js start it);
  // the raw baselines run with Node's defaults.
  const flags = w.nodeFlags ? [...w.nodeFlags] : w.worker === 'citygate' ? [...SERVICE_NODE_FLAGS] : [];
  const argv = w.build
    ? [...flags, join(w.build, 'bench', 'workers', `${w.worker}.js`)]
    : [...flags, '--import', 'tsx', join(REPO, 'bench', 'workers', `${w.worker}.ts`)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: REPO,
      env: { ...process.env, BENCH_ARGS: JSON.stringify({ ...w.args, hardTimeoutMs: w.timeoutMs }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), w.timeoutMs + 5000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as R);
        return;
      }
      const tail = err.trim().split('\n').slice(-6).join(' | ');
      reject(new Error(`worker ${w.worker} failed (${signal ?? `exit ${code}`}): ${tail || 'no output'}`));
    });
  });
}

/** Run the citygate CLI as installed (a child process) and collect what it says. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/citygate.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // A command may stop reading before the end (validate - past its 1 MiB cap) and exit:
    // the rest of the input then meets a closed pipe (EPIPE), as `yes | head` does.
    p.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) p.stdin?.end(opts.input);
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A Node stack trace in output: "    at fn (file:line:col)". */
export const STACK = /^\s+at .+(:\d+:\d+\)?|\(node:.+\))$/m;

/** runCli with a longer default bound, for commands that open a buffer or a broker. */
export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCli(args, { timeoutMs: 60_000, ...opts });
}

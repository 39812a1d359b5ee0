/**
 * A gateway in a child process, run exactly as systemd runs it (`citygate run`), so
 * tests can kill -9 it mid-burst and start it again on the same data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const BIN = fileURLToPath(new URL('../../bin/citygate.js', import.meta.url));

export class ChildGateway {
  private proc: ChildProcess | undefined;
  readonly configFile: string;
  output = '';

  constructor(dir: string, config: Record<string, unknown>) {
    this.configFile = join(dir, 'gateway.yaml');
    writeFileSync(this.configFile, stringify(config));
  }

  /** Resolves when the process exits: its code, or the signal that ended it. */
  exited: Promise<number | string | null> = Promise.resolve(null);

  /** `wrap`: a command prefix, e.g. `ip netns exec <ns>` to run the gateway in a network namespace. */
  /** `cwd`: the working directory (systemd starts services in /). */
  start(opts: { env?: NodeJS.ProcessEnv; logLevel?: string; wrap?: string[]; cwd?: string; args?: string[] } = {}): void {
    const level = opts.logLevel ?? 'warn';
    const argv = [...(opts.wrap ?? []), process.execPath, BIN, 'run', '--config', this.configFile, '--log-level', level, ...(opts.args ?? [])];
    this.proc = spawn(argv[0] as string, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      env: { ...process.env, CITYGATE_LOG_LEVEL: level, ...opts.env },
    });
    const p = this.proc;
    this.exited = new Promise((resolve) => p.once('exit', (code, sig) => resolve(code ?? sig)));
    this.proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Still running (not exited)? */
  get alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Wait until the output matches `re` (bounded). */
  async waitForOutput(re: RegExp, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.output)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in the gateway's output:\n${this.output.slice(-2000)}`);
      if (!this.alive) throw new Error(`the gateway exited before ${re}:\n${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Send a signal and wait for the process to exit; returns its exit code or signal. */
  async kill(signal: NodeJS.Signals): Promise<number | string | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    return new Promise((resolve) => {
      const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
      p.once('exit', (code, sig) => {
        clearTimeout(t);
        resolve(code ?? sig);
      });
      p.kill(signal);
    });
  }
}

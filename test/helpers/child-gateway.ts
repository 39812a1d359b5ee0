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

  start(): void {
    this.proc = spawn(process.execPath, [BIN, 'run', '--config', this.configFile, '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CITYGATE_LOG_LEVEL: 'warn' },
    });
    this.proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** Send a signal without waiting (e.g. SIGHUP: reload the config). */
  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
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

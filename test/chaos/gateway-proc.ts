/**
 * The gateway under test: `citygate run` in a child process (as systemd runs it) under
 * libfaketime, restarted like systemd's Restart=always when it exits without being
 * asked to. Every exit the harness did not ask for is recorded with its code and the
 * last log lines; the log goes to a file with harness timestamps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/citygate.js', import.meta.url));

export interface UnexpectedExit {
  at: number;
  code: number | null;
  signal: string | null;
  lastLines: string[];
}

export class GatewayProc {
  private proc: ChildProcess | undefined;
  private wanted = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private tail: string[] = [];
  /** The current process has logged "gateway started". */
  private up = false;
  private upSince = 0;
  private upTotal = 0;
  private startedWaiters: Array<() => void> = [];
  readonly unexpected: UnexpectedExit[] = [];
  starts = 0;
  errorLines = 0;
  /** Warn and error lines per harness second, to spot a log flood. */
  readonly alarmsPerSecond = new Map<number, number>();

  constructor(
    private configFile: string,
    private readonly logFile: string,
    private readonly env: Record<string, string>,
    private readonly now: () => number,
    private readonly onUnexpected: (u: UnexpectedExit) => void = () => undefined,
  ) {}

  /** Running and past "gateway started". */
  get isUp(): boolean {
    return this.running && this.up;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  useConfig(file: string): void {
    this.configFile = file;
  }

  /** Start (if not running) and wait until it logs "gateway started" (or `ms` pass). */
  async start(ms = 20_000): Promise<boolean> {
    this.wanted = true;
    clearTimeout(this.restartTimer);
    if (!this.running) this.spawn();
    else if (this.up) return true;
    return this.waitStarted(ms);
  }

  private waitStarted(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.startedWaiters = this.startedWaiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      const done = (): void => {
        clearTimeout(t);
        resolve(true);
      };
      this.startedWaiters.push(done);
    });
  }

  private spawn(): void {
    this.starts++;
    this.up = false;
    this.note(`--- start #${this.starts} (${this.configFile})`);
    const p = spawn(process.execPath, [BIN, 'run', '--config', this.configFile, '--log-level', 'info', '--drain', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env, CITYGATE_LOG_LEVEL: 'info', NO_COLOR: '1' },
    });
    this.proc = p;
    let partial = '';
    const onData = (d: Buffer): void => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) this.line(l);
    };
    p.stdout?.on('data', onData);
    p.stderr?.on('data', onData);
    p.once('exit', (code, signal) => {
      if (partial) this.line(partial);
      if (this.up) this.upTotal += this.now() - this.upSince;
      this.up = false;
      this.note(`--- exit code=${code} signal=${signal}${this.wanted ? ' (unexpected)' : ''}`);
      if (this.proc !== p || !this.wanted) return;
      const u = { at: this.now(), code, signal, lastLines: this.tail.slice(-12) };
      this.unexpected.push(u);
      this.onUnexpected(u);
      // Like systemd Restart=always, RestartSec=1.
      this.restartTimer = setTimeout(() => {
        if (this.wanted && !this.running) this.spawn();
      }, 1000);
    });
  }

  private line(l: string): void {
    if (!l) return;
    this.tail.push(l);
    if (this.tail.length > 60) this.tail.splice(0, 20);
    if (/"level":(40|50|60)/.test(l)) {
      const sec = Math.floor(this.now() / 1000);
      this.alarmsPerSecond.set(sec, (this.alarmsPerSecond.get(sec) ?? 0) + 1);
    }
    if (/"level":(50|60)/.test(l)) this.errorLines++;
    this.note(l);
    if (l.includes('gateway started') && !this.up) {
      this.up = true;
      this.upSince = this.now();
    }
    if (l.includes('gateway started')) for (const w of this.startedWaiters.splice(0)) w();
  }

  private note(l: string): void {
    appendFileSync(this.logFile, `[${(this.now() / 1000).toFixed(3)}] ${l}\n`);
  }

  /** How long a gateway process was up (past "gateway started") in total, until `at`. */
  upMs(at: number): number {
    return this.upTotal + (this.up && this.running ? at - this.upSince : 0);
  }

  lastLines(n = 12): string[] {
    return this.tail.slice(-n);
  }

  /** Send `signal`, wait for the exit (SIGKILL after `ms`); no automatic restart. */
  async stop(signal: NodeJS.Signals, ms = 15_000): Promise<number | string | null> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? p?.signalCode ?? null;
    return new Promise((resolve) => {
      const t = setTimeout(() => p.kill('SIGKILL'), ms);
      p.once('exit', (code, sig) => {
        clearTimeout(t);
        resolve(code ?? sig);
      });
      p.kill(signal);
    });
  }

  /** Signal without waiting (e.g. SIGTERM then SIGKILL during the stop). */
  signal(sig: NodeJS.Signals): void {
    if (sig !== 'SIGCONT') this.wanted = false;
    this.proc?.kill(sig);
  }
}

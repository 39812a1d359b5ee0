/**
 * Mosquitto in the broker namespace of a LinkLab (test/helpers/netns.ts):
 * - a TLS listener (mutual TLS, certificates from test/helpers/certs.ts) on the shaped
 *   link's address, for the gateway: TLS records count in the bytes on the wire, as
 *   they do on a real cellular uplink;
 * - a plain listener on the unshaped veth to the test's namespace, for the subscriber.
 * Both ports are the standard ones, inside a namespace the test created (never the
 * machine's own broker). Stopped with SIGTERM, SIGKILL after 5 s; its temp dir is removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCerts } from '../helpers/certs.js';
import { tempDir } from '../helpers/gateway-config.js';
import { waitForPort } from '../helpers/net.js';
import type { LinkLab } from '../helpers/netns.js';
import { requireTool } from '../helpers/tools.js';

export const TLS_PORT = 8883;
export const PLAIN_PORT = 1883;

export class LabBroker {
  readonly dir = tempDir('cg-links-broker-');
  readonly logFile = join(this.dir, 'mosquitto.log');
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly lab: LinkLab,
    private readonly certs: TestCerts,
  ) {}

  /** For the gateway (TLS, through the shaped link). */
  get gatewayUrl(): string {
    return `mqtts://${this.lab.brIp}:${TLS_PORT}`;
  }

  /** For the subscriber (plain, unshaped). */
  get subscriberUrl(): string {
    return `mqtt://${this.lab.brTapIp}:${PLAIN_PORT}`;
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'mosquitto.conf');
    const c = this.certs;
    writeFileSync(
      conf,
      [
        '# written by test/links/broker.ts',
        'user root',
        'persistence false',
        'max_queued_messages 1000000',
        'max_queued_bytes 0',
        'allow_anonymous true',
        `log_dest file ${this.logFile}`,
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        'connection_messages true',
        'log_timestamp_format %H:%M:%S',
        `listener ${TLS_PORT} ${this.lab.brIp}`,
        `cafile ${c.ca}`,
        `certfile ${c.serverCert}`,
        `keyfile ${c.serverKey}`,
        'require_certificate true',
        `listener ${PLAIN_PORT} ${this.lab.brTapIp}`,
        '',
      ].join('\n'),
    );
    const [cmd, ...args] = this.lab.inBroker([requireTool('mosquitto'), '-c', conf]) as [string, ...string[]];
    const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const died = this.exited.then(() => {
      throw new Error(`mosquitto exited on start (code ${proc.exitCode}): ${stderr}\n${this.logTail()}`);
    });
    await Promise.race([waitForPort(PLAIN_PORT, this.lab.brTapIp, 10_000), died]);
  }

  /** Stop the broker and remove its temp dir (config, log). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(lines = 30): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n') : '(no mosquitto log)';
  }
}

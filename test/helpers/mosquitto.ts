/**
 * A real Mosquitto for interop tests, on a free 127.0.0.1 port with its own config in
 * a temp dir (never the machine's own broker on 1883). What the config does and why:
 * - `max_queued_messages` raised: the default 1000 loses QoS 1 messages to a slow
 *   subscriber in a burst (docs/field-notes.md#mosquitto-queue-limit).
 * - persistence in the temp dir: a subscriber's persistent session (clean: false,
 *   fixed client id; MQTT 5 also a session expiry) and the messages queued for it
 *   survive `restart()` (SIGTERM saves the database).
 * - optional TLS listener (`require_certificate true` by default), password file,
 *   and `max_inflight_messages` / `max_packet_size` for MQTT 5 limit tests.
 *
 * `stop()` is SIGTERM (graceful, saves), `kill()` is SIGKILL; `start()` again reuses
 * the port, the config and the persistence file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { requireTool } from './tools.js';
import { freePort, waitForPort } from './net.js';
import { tempDir } from './gateway-config.js';

export interface MosquittoTls {
  ca: string;
  cert: string;
  key: string;
  /** Refuse clients without a certificate signed by `ca` (default true). */
  requireCertificate?: boolean;
}

export interface MosquittoOptions {
  port?: number;
  /** Default 1,000,000 (Mosquitto's 1000 drops QoS 1 messages in a burst). */
  maxQueuedMessages?: number;
  /** Outgoing in-flight limit; for MQTT 5 clients also the Receive Maximum in CONNACK. */
  maxInflightMessages?: number;
  /** Largest packet the broker accepts; sent to MQTT 5 clients in CONNACK. */
  maxPacketSize?: number;
  tls?: MosquittoTls;
  /** username → password; anonymous clients are refused when given. */
  users?: Record<string, string>;
  /** More config lines, verbatim. */
  extra?: string[];
}

export class Mosquitto {
  readonly dir = tempDir('cg-mosquitto-');
  readonly confFile = join(this.dir, 'mosquitto.conf');
  readonly logFile = join(this.dir, 'mosquitto.log');
  port = 0;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly opts: MosquittoOptions = {}) {}

  get url(): string {
    return `${this.opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private writeConfig(): void {
    const o = this.opts;
    const lines = [
      `# written by test/helpers/mosquitto.ts`,
      `user ${userInfo().username}`,
      `listener ${this.port} 127.0.0.1`,
      `persistence true`,
      `persistence_location ${this.dir}/`,
      `autosave_interval 0`,
      `max_queued_messages ${o.maxQueuedMessages ?? 1_000_000}`,
      `max_queued_bytes 0`,
      `log_dest file ${this.logFile}`,
      `log_type error`,
      `log_type warning`,
      `log_type notice`,
      `log_type information`,
      `connection_messages true`,
      `log_timestamp_format %H:%M:%S`,
    ];
    if (o.maxInflightMessages !== undefined) lines.push(`max_inflight_messages ${o.maxInflightMessages}`);
    if (o.maxPacketSize !== undefined) lines.push(`max_packet_size ${o.maxPacketSize}`);
    if (o.tls) {
      lines.push(
        `cafile ${o.tls.ca}`,
        `certfile ${o.tls.cert}`,
        `keyfile ${o.tls.key}`,
        `require_certificate ${o.tls.requireCertificate === false ? 'false' : 'true'}`,
      );
    }
    if (o.users) {
      const pw = join(this.dir, 'passwd');
      writeFileSync(pw, '', { mode: 0o600 });
      const tool = requireTool('mosquitto_passwd');
      for (const [user, pass] of Object.entries(o.users)) {
        const r = spawnSync(tool, ['-b', pw, user, pass], { encoding: 'utf8', timeout: 10_000 });
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
      }
      lines.push(`allow_anonymous false`, `password_file ${pw}`);
    } else {
      lines.push(`allow_anonymous true`);
    }
    lines.push(...(o.extra ?? []), '');
    writeFileSync(this.confFile, lines.join('\n'));
  }

  /** Start (or start again, on the same port). Resolves once it accepts connections. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.running) return;
    if (this.port === 0) this.port = this.opts.port ?? (await freePort());
    this.writeConfig();
    const proc = spawn(requireTool('mosquitto'), ['-c', this.confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const died = this.exited.then(() => {
      throw new Error(`mosquitto exited on start (code ${proc.exitCode}, signal ${proc.signalCode}): ${stderr}\n${this.logTail()}`);
    });
    await Promise.race([waitForPort(this.port, '127.0.0.1', timeoutMs), died]);
  }

  /** Graceful stop: SIGTERM (the persistence file is saved), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    await this.signal('SIGTERM', timeoutMs);
  }

  /** Hard kill: nothing saved since the last autosave. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 5000);
  }

  /** SIGHUP: Mosquitto reloads its ACL and password files, connections stay. */
  reload(): void {
    this.proc?.kill('SIGHUP');
  }

  /** Stop, stay down for `downMs`, start again on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  private async signal(sig: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    p.kill(sig);
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs)),
    ]);
    if (timedOut) {
      p.kill('SIGKILL');
      await this.exited;
    }
    this.proc = undefined;
  }

  /** The last `lines` lines of the broker's log, for failure messages. */
  logTail(lines = 40): string {
    if (!existsSync(this.logFile)) return '(no mosquitto log)';
    return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** The whole broker log. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

export interface SubscriberOptions {
  clientId: string;
  protocolVersion: 4 | 5;
  topics: string[];
  /** PEM file paths for a TLS broker. */
  tls?: { ca: string; cert?: string; key?: string };
  onMessage: (topic: string, payload: Buffer) => void;
  timeoutMs?: number;
}

/**
 * A persistent QoS 1 subscriber (clean: false, fixed client id; MQTT 5 with a session
 * expiry, which `clean: false` alone does not keep — docs/field-notes.md#mqtt-5-sessions-and-limits). It reconnects by
 * itself every 250 ms; the broker keeps its queue while it is away.
 */
export async function persistentSubscriber(url: string, o: SubscriberOptions): Promise<MqttClient> {
  const opts: IClientOptions = {
    clientId: o.clientId,
    protocolVersion: o.protocolVersion,
    clean: false,
    reconnectPeriod: 250,
    connectTimeout: 5000,
    keepalive: 10,
  };
  if (o.protocolVersion === 5) opts.properties = { sessionExpiryInterval: 3600 };
  if (o.tls) {
    opts.rejectUnauthorized = true;
    opts.ca = readFileSync(o.tls.ca);
    if (o.tls.cert) opts.cert = readFileSync(o.tls.cert);
    if (o.tls.key) opts.key = readFileSync(o.tls.key);
  }
  const client = mqtt.connect(url, opts);
  client.on('message', (topic, payload) => o.onMessage(topic, payload));
  const ms = o.timeoutMs ?? 10_000;
  try {
    await withTimeout(new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    }), ms, `subscriber ${o.clientId} connecting to ${url}`);
    await withTimeout(client.subscribeAsync(o.topics, { qos: 1 }), ms, `subscriber ${o.clientId} subscribing`);
  } catch (err) {
    client.end(true);
    throw err;
  }
  return client;
}

/** End a subscriber without waiting forever (end(true) may leave promises unsettled). */
export async function closeClient(client: MqttClient | undefined): Promise<void> {
  if (!client) return;
  await withTimeout(client.endAsync(true), 2000, 'closing an MQTT client').catch(() => undefined);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms}ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/**
 * A real RabbitMQ node (3.10, rabbitmq_mqtt plugin) for interop tests, all of it in a
 * temp dir and on free 127.0.0.1 ports, never the machine's own node (5672) nor its
 * epmd (4369): the node gets its own epmd on a free port, its own Erlang cookie (HOME
 * is the temp dir), its own mnesia and log dirs, its own env, config and plugins files.
 * The server script is run directly (the Debian wrapper would switch to the rabbitmq
 * user and its cookie).
 *
 * Starting takes 5–30 s on a small machine; `start()` waits (bounded) until an MQTT
 * CONNECT is answered and fails with the node's log otherwise. `stop()` is
 * `rabbitmqctl stop` (graceful), `kill()` is SIGKILL of the node's process group;
 * `start()` again reuses the ports, the node name and its database (durable queues
 * of persistent MQTT sessions survive).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, waitForPort } from './net.js';
import { tempDir } from './gateway-config.js';
import { withTimeout } from './mosquitto.js';

const RABBIT_LIB = '/usr/lib/rabbitmq/lib';
const HINT = 'install it: apt-get install -y rabbitmq-server (3.10 or later, with the rabbitmq_mqtt plugin)';

/** The server's own sbin dir (the scripts behind /usr/sbin/rabbitmq-*), or throws naming what is missing. */
function rabbitSbin(): string {
  if (!existsSync(RABBIT_LIB)) throw new Error(`RabbitMQ is not installed (${RABBIT_LIB} missing) — ${HINT}`);
  const dirs = readdirSync(RABBIT_LIB).filter((d) => d.startsWith('rabbitmq_server-')).sort();
  const dir = dirs.at(-1);
  if (!dir) throw new Error(`no rabbitmq_server-* in ${RABBIT_LIB} — ${HINT}`);
  const sbin = join(RABBIT_LIB, dir, 'sbin');
  if (!readdirSync(join(RABBIT_LIB, dir, 'plugins')).some((p) => p.startsWith('rabbitmq_mqtt-')))
    throw new Error(`RabbitMQ ${dir} has no rabbitmq_mqtt plugin — ${HINT}`);
  return sbin;
}

function epmdPath(): string {
  for (const p of ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd']) if (existsSync(p)) return p;
  throw new Error('epmd (Erlang) is not installed — install it: apt-get install -y erlang-base');
}

export class RabbitMq {
  readonly dir = tempDir('cg-rabbit-');
  readonly node = `cg${randomBytes(4).toString('hex')}@localhost`;
  port = 0;
  private amqpPort = 0;
  private distPort = 0;
  private epmdPort = 0;
  private proc: ChildProcess | undefined;
  private epmd: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private readonly sbin = rabbitSbin();

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The environment every rabbitmq script (server and ctl) needs to find this node. */
  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: this.dir,
      LANG: 'C.UTF-8',
      ERL_EPMD_PORT: String(this.epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_LOGS: join(this.dir, 'log', 'node.log'),
      RABBITMQ_PID_FILE: join(this.dir, 'node.pid'),
      RABBITMQ_ALLOW_INPUT: '',
    };
  }

  private writeConfig(): void {
    mkdirSync(join(this.dir, 'mnesia'), { recursive: true });
    mkdirSync(join(this.dir, 'log'), { recursive: true });
    writeFileSync(join(this.dir, 'rabbitmq-env.conf'), '# written by test/helpers/rabbitmq.ts: nothing from /etc/rabbitmq\n');
    writeFileSync(join(this.dir, 'advanced.config'), '[].\n');
    writeFileSync(join(this.dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
    const lines = [
      `# written by test/helpers/rabbitmq.ts`,
      `listeners.tcp.default = 127.0.0.1:${this.amqpPort}`,
      `mqtt.listeners.tcp.default = 127.0.0.1:${this.port}`,
      `mqtt.vhost = /`,
      `mqtt.exchange = amq.topic`,
      `mqtt.prefetch = 20`,
      `loopback_users = none`,
      `log.file.level = info`,
      `log.console = false`,
      `disk_free_limit.absolute = 50MB`,
    ];
    // Anonymous MQTT clients act as guest (loopback_users = none lets guest in over 127.0.0.1).
    lines.push(`mqtt.allow_anonymous = true`, `mqtt.default_user = guest`, `mqtt.default_pass = guest`);
    writeFileSync(join(this.dir, 'rabbitmq.conf'), lines.join('\n') + '\n');
  }

  /** Start (or start again on the same ports and database); resolves once MQTT CONNECT is answered. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    if (this.port === 0) {
      this.port = await freePort();
      this.amqpPort = await freePort();
      this.distPort = await freePort();
      this.epmdPort = await freePort();
    }
    this.writeConfig();
    if (!this.epmd || this.epmd.exitCode !== null || this.epmd.signalCode !== null) {
      this.epmd = spawn(epmdPath(), ['-port', String(this.epmdPort), '-address', '127.0.0.1'], { stdio: 'ignore', env: this.env() });
      await waitForPort(this.epmdPort, '127.0.0.1', 5000);
    }
    this.output = '';
    // Its own process group: kill() takes the Erlang VM and its helper processes together.
    const proc = spawn(join(this.sbin, 'rabbitmq-server'), [], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env(), cwd: this.dir, detached: true });
    const keep = (d: Buffer) => {
      if (this.output.length < 16_384) this.output += d.toString();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const died = this.exited.then(() => {
      throw new Error(`RabbitMQ node ${this.node} exited on start (code ${proc.exitCode}, signal ${proc.signalCode}):\n${this.output}\n${this.logTail()}`);
    });
    try {
      await Promise.race([this.waitReady(timeoutMs), died]);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    await waitForPort(this.port, '127.0.0.1', timeoutMs).catch(() => {
      throw new Error(`RabbitMQ node ${this.node} opened no MQTT listener on ${this.port} within ${timeoutMs}ms:\n${this.output}\n${this.logTail()}`);
    });
    let last = '';
    while (Date.now() < end) {
      try {
        const c = await withTimeout(
          mqtt.connectAsync(this.url, { clientId: 'ready-probe', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 }),
          4000,
          'MQTT CONNECT',
        );
        await withTimeout(c.endAsync(true), 2000, 'closing the probe').catch(() => undefined);
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`RabbitMQ node ${this.node} never answered an MQTT CONNECT within ${timeoutMs}ms (last: ${last})\n${this.logTail()}`);
  }

  /** rabbitmqctl against this node (bounded); throws with its output on failure. */
  ctl(args: string[], timeoutMs = 30_000): string {
    const r = spawnSync(join(this.sbin, 'rabbitmqctl'), ['-n', this.node, ...args], { encoding: 'utf8', env: this.env(), cwd: this.dir, timeout: timeoutMs });
    if (r.status !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Graceful stop (`rabbitmqctl stop`: queues are flushed), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    try {
      this.ctl(['stop'], timeoutMs);
    } catch {
      // Fall through to the kill below: teardown must end.
    }
    const timedOut = await Promise.race([this.exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs))]);
    if (timedOut) await this.kill();
    this.proc = undefined;
  }

  /** Hard kill of the node (SIGKILL to its process group): nothing flushed. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || !this.running || p.pid === undefined) return;
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      p.kill('SIGKILL');
    }
    await this.exited;
    this.proc = undefined;
  }

  /** Stop the node and its epmd (teardown). */
  async close(): Promise<void> {
    await this.stop();
    const e = this.epmd;
    if (e && e.exitCode === null && e.signalCode === null) {
      const gone = new Promise<void>((r) => e.once('exit', () => r()));
      e.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (e.exitCode === null && e.signalCode === null) e.kill('SIGKILL');
    }
    this.epmd = undefined;
  }

  /** The last `lines` lines of the node's log. */
  logTail(lines = 40): string {
    const f = join(this.dir, 'log', 'node.log');
    if (!existsSync(f)) return `(no RabbitMQ log at ${f})`;
    return readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** The whole node log. */
  log(): string {
    const f = join(this.dir, 'log', 'node.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }
}

/**
 * A real NATS cluster for interop tests: `nodes` nats-server processes (default 3) on
 * free 127.0.0.1 ports, routed to each other, JetStream clustered, each with its MQTT
 * listener. Never the machine's own NATS on 4222. Why the config looks like this:
 * - NATS speaks MQTT only with JetStream on and a `server_name` (sessions, retained
 *   messages and QoS 1 messages live in JetStream streams);
 * - three nodes so that the MQTT streams are replicated (R3) and one node may die
 *   with the JetStream meta group and every stream keeping a quorum;
 * - each node's store dir is in the cluster's temp dir, so `start(i)` after `kill(i)`
 *   finds its state again.
 *
 * `stop(i)` is SIGTERM (lame duck, graceful), `kill(i)` SIGKILL; `start(i)` again reuses
 * the node's ports and store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { requireTool } from './tools.js';
import { freePort, waitForPort } from './net.js';
import { tempDir } from './gateway-config.js';
import { withTimeout } from './mosquitto.js';

interface NatsNodeState {
  name: string;
  client: number;
  cluster: number;
  mqtt: number;
  proc?: ChildProcess;
  exited: Promise<void>;
  stderr: string;
}

export interface NatsClusterOptions {
  /** Nodes in the cluster (default 3; 1 runs a single server without routes). */
  nodes?: number;
}

export class NatsCluster {
  readonly dir = tempDir('cg-nats-');
  private readonly nodes: NatsNodeState[] = [];

  constructor(private readonly opts: NatsClusterOptions = {}) {}

  get size(): number {
    return this.opts.nodes ?? 3;
  }

  /** MQTT URL of node `i`. */
  url(i = 0): string {
    return `mqtt://127.0.0.1:${this.node(i).mqtt}`;
  }

  running(i: number): boolean {
    const p = this.nodes[i]?.proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  private node(i: number): NatsNodeState {
    const n = this.nodes[i];
    if (!n) throw new Error(`NATS node ${i} was never started (cluster of ${this.size})`);
    return n;
  }

  private confFile(i: number): string {
    return join(this.dir, `n${i}.conf`);
  }

  logFile(i: number): string {
    return join(this.dir, `n${i}.log`);
  }

  private writeConfig(i: number): void {
    const n = this.node(i);
    const store = join(this.dir, `store-n${i}`);
    mkdirSync(store, { recursive: true });
    const lines = [
      `# written by test/helpers/nats.ts`,
      `server_name: ${n.name}`,
      `listen: "127.0.0.1:${n.client}"`,
      `log_file: "${this.logFile(i)}"`,
      `jetstream {`,
      `  store_dir: "${store}"`,
      `  max_memory_store: 64MB`,
      `  max_file_store: 1GB`,
      `}`,
      `mqtt {`,
      `  listen: "127.0.0.1:${n.mqtt}"`,
      // A QoS 1 message to a subscriber is sent again after this without a PUBACK.
      `  ack_wait: "5s"`,
      `  max_ack_pending: 1000`,
      `  stream_replicas: ${Math.min(3, this.size)}`,
      `}`,
    ];
    if (this.size > 1) {
      const routes = this.nodes.filter((_, j) => j !== i).map((o) => `    "nats-route://127.0.0.1:${o.cluster}"`);
      lines.push(`cluster {`, `  name: "cg-test"`, `  listen: "127.0.0.1:${n.cluster}"`, `  routes: [`, ...routes, `  ]`, `}`);
    }
    writeFileSync(this.confFile(i), lines.join('\n') + '\n');
  }

  /** Start every node and wait until each one's MQTT listener answers a CONNECT. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.nodes.length === 0) {
      for (let i = 0; i < this.size; i++) {
        this.nodes.push({ name: `n${i}`, client: await freePort(), cluster: await freePort(), mqtt: await freePort(), exited: Promise.resolve(), stderr: '' });
      }
    }
    for (let i = 0; i < this.size; i++) this.spawnNode(i);
    await Promise.all(this.nodes.map((_, i) => this.waitReady(i, timeoutMs)));
  }

  /** Start node `i` again (same ports, same store) and wait until it serves MQTT. */
  async startNode(i: number, timeoutMs = 30_000): Promise<void> {
    this.spawnNode(i);
    await this.waitReady(i, timeoutMs);
  }

  private spawnNode(i: number): void {
    if (this.running(i)) return;
    const n = this.node(i);
    this.writeConfig(i);
    const proc = spawn(requireTool('nats-server'), ['-c', this.confFile(i)], { stdio: ['ignore', 'ignore', 'pipe'] });
    n.stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      if (n.stderr.length < 8192) n.stderr += d.toString();
    });
    n.proc = proc;
    n.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  /**
   * Ready means an MQTT CONNECT gets a CONNACK: the listener is up only once JetStream
   * is, and in a cluster the MQTT account streams need the meta leader, which takes a
   * few seconds after a (re)start.
   */
  private async waitReady(i: number, timeoutMs: number): Promise<void> {
    const n = this.node(i);
    const p = n.proc;
    const died = n.exited.then(() => {
      throw new Error(`nats-server ${n.name} exited on start (code ${p?.exitCode}, signal ${p?.signalCode}): ${n.stderr}\n${this.logTail(i)}`);
    });
    const end = Date.now() + timeoutMs;
    const ready = (async () => {
      await waitForPort(n.mqtt, '127.0.0.1', timeoutMs);
      let last = '';
      while (Date.now() < end) {
        try {
          const c = await withTimeout(
            mqtt.connectAsync(this.url(i), { clientId: `ready-probe-${n.name}`, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 }),
            4000,
            `MQTT CONNECT to ${n.name}`,
          );
          await withTimeout(c.endAsync(true), 2000, 'closing the probe').catch(() => undefined);
          return;
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`NATS node ${n.name} never answered an MQTT CONNECT within ${timeoutMs}ms (last: ${last})\n${this.logTail(i)}`);
    })();
    await Promise.race([ready, died]);
  }

  /** Graceful stop of node `i` (SIGTERM), SIGKILL after `timeoutMs`. */
  async stop(i: number, timeoutMs = 10_000): Promise<void> {
    await this.signal(i, 'SIGTERM', timeoutMs);
  }

  /** Hard kill of node `i`. */
  async kill(i: number): Promise<void> {
    await this.signal(i, 'SIGKILL', 5000);
  }

  /** Stop every node (teardown). */
  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.stop(i)));
  }

  private async signal(i: number, sig: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const n = this.nodes[i];
    const p = n?.proc;
    if (!n || !p || !this.running(i)) return;
    p.kill(sig);
    const timedOut = await Promise.race([n.exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs))]);
    if (timedOut) {
      p.kill('SIGKILL');
      await n.exited;
    }
    n.proc = undefined;
  }

  /** The last `lines` lines of node `i`'s log. */
  logTail(i: number, lines = 40): string {
    const f = this.logFile(i);
    if (!existsSync(f)) return `(no log for n${i})`;
    return readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n');
  }
}

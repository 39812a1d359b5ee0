/**
 * The broker every core benchmark talks to, the same one for the raw loop and for
 * citygate in one run: a Mosquitto spawned on a free loopback port with its own temp
 * config (never the machine's own on 1883), or, when Mosquitto is not installed, the
 * in-process aedes broker (src/demo/embedded-broker.ts), which speaks MQTT 3.1.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { EmbeddedBroker } from '../../src/demo/embedded-broker.js';

export interface BenchBroker {
  /** e.g. "mosquitto 2.0.11 (spawned, port 40123)". */
  label: string;
  kind: 'mosquitto' | 'aedes';
  url: string;
  /** MQTT protocol version both the raw loop and citygate use with this broker. */
  protocolVersion: 4 | 5;
  stop(): Promise<void>;
}

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function mosquittoVersion(bin: string): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(bin, ['-h'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', () => resolve(/version ([\d.]+)/.exec(out)?.[1] ?? '?'));
    p.on('error', () => resolve('?'));
  });
}

export async function startBroker(dir: string, log: (l: string) => void): Promise<BenchBroker> {
  const bin = process.env.BENCH_BROKER === 'aedes' ? undefined : MOSQUITTO.find((b) => existsSync(b));
  if (bin) {
    try {
      return await startMosquitto(bin, dir);
    } catch (err) {
      log(`mosquitto did not start (${(err as Error).message}); falling back to aedes`);
    }
  } else if (process.env.BENCH_BROKER !== 'aedes') {
    log('mosquitto not found (apt-get install mosquitto); falling back to the in-process aedes broker');
  }
  const b = new EmbeddedBroker('127.0.0.1', 0);
  await b.start();
  return {
    label: `aedes (in-process, MQTT 3.1.1, port ${b.port}) — mosquitto missing`,
    kind: 'aedes',
    url: b.url,
    protocolVersion: 4,
    stop: () => b.stop(),
  };
}

async function startMosquitto(bin: string, dir: string): Promise<BenchBroker> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 1000000',
      'max_inflight_messages 0',
      'message_size_limit 0',
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill('SIGKILL');
      throw new Error(`mosquitto on port ${port}: ${stderr.trim() || 'did not listen within 5 s'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const version = await mosquittoVersion(bin);
  return {
    label: `mosquitto ${version} (spawned, port ${port})`,
    kind: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    protocolVersion: 5,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    },
  };
}

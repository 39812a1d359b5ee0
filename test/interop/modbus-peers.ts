/**
 * Real Modbus peers for the interop tests: a pymodbus slave (TCP or RTU) in a child
 * process, mbpoll as an independent master, and a Node-side RTU slave with scripted
 * faults on one end of a socat pty pair. Missing tools fail with the apt package to
 * install (test/helpers/tools.ts), never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { RtuResponder } from '../../src/drivers/modbus/server/rtu-responder.js';
import { requireTool } from '../helpers/tools.js';
import { killAndWait } from '../helpers/process.js';

const FIXTURE = join(import.meta.dirname, 'fixtures/modbus_server.py');

export interface RegisterMap {
  [unit: number]: { hr?: number[]; ir?: number[]; co?: number[]; di?: number[] };
}

export class Pymodbus {
  private proc: ChildProcess | undefined;

  /** `args`: ['tcp', port] or ['rtu', device, baud]. Resolves once the server says READY. */
  async start(args: string[], map: RegisterMap): Promise<void> {
    const python = requireTool('pymodbus');
    const file = join(mkdtempSync(join(tmpdir(), 'cg-pymodbus-')), 'map.json');
    writeFileSync(file, JSON.stringify(map));
    const proc = spawn(python, [FIXTURE, ...args, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`pymodbus did not start within 15s: ${stderr}`)), 15_000);
      proc.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('READY')) {
          clearTimeout(t);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`pymodbus exited with ${code}: ${stderr}`));
      });
    });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await killAndWait(p);
  }
}

/**
 * Run mbpoll once and return the values it printed, in order. Asynchronous on
 * purpose: a synchronous spawn would block the event loop that serves our own
 * in-process slaves.
 */
export async function mbpoll(args: string[]): Promise<number[]> {
  const bin = requireTool('mbpoll');
  const proc = spawn(bin, ['-1', '-0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  const status = await new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  const values = [...stdout.matchAll(/^\[\d+\]:\s+(\S+)/gm)].map((m) => Number(m[1]));
  if (values.length === 0) throw new Error(`mbpoll ${args.join(' ')} printed no values (exit ${status}):\n${stdout}\n${stderr}`);
  return values;
}

/** A Node-side RTU slave on a pty: serialport on one end, the RtuResponder behind it. */
export class PtySlave {
  readonly responder: RtuResponder;
  private port: SerialPort | undefined;

  constructor(private readonly path: string) {
    this.responder = new RtuResponder((b) => this.port?.write(b));
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (d: Buffer) => this.responder.receive(d));
    port.on('error', () => undefined);
    this.port = port;
  }

  async close(): Promise<void> {
    this.responder.stop();
    const p = this.port;
    this.port = undefined;
    if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
  }
}

/**
 * A virtual serial cable: socat joins two pseudo-terminals, `a` and `b`. Killing it
 * is an unplug (both ends see EIO / close); `start()` again is a replug on the same
 * paths (they are symlinks socat recreates).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools.js';
import { killAndWait } from './process.js';

export class PtyPair {
  readonly a: string;
  readonly b: string;
  private proc: ChildProcess | undefined;

  constructor(dir = mkdtempSync(join(tmpdir(), 'cg-pty-'))) {
    this.a = join(dir, 'ttyA');
    this.b = join(dir, 'ttyB');
  }

  async start(): Promise<void> {
    const socat = requireTool('socat');
    this.proc = spawn(socat, [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    const end = Date.now() + 5000;
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (Date.now() > end) throw new Error('socat did not create the pty pair within 5s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Unplug: kill socat and wait until it is gone. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await killAndWait(p);
  }
}

/** The device end of a pty: opened with serialport, as a USB device's far side would be. */
export interface PtyDevice {
  send(bytes: Buffer): Promise<void>;
  /** Everything received so far. */
  received(): Buffer;
  close(): Promise<void>;
}

export async function openPtyDevice(path: string): Promise<PtyDevice> {
  const { SerialPort } = await import('serialport');
  const device = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  device.on('error', () => undefined); // the unplug shows here too; the test watches the other end
  await new Promise<void>((resolve, reject) => device.open((e) => (e ? reject(e) : resolve())));
  const got: Buffer[] = [];
  device.on('data', (b: Buffer) => got.push(b));
  return {
    send: (bytes) => new Promise<void>((resolve, reject) => device.write(bytes, (e) => (e ? reject(e) : device.drain(() => resolve())))),
    received: () => Buffer.concat(got),
    close: () => new Promise<void>((resolve) => (device.isOpen ? device.close(() => resolve()) : resolve())),
  };
}

/**
 * The device end of a socat pty pair for the serial interop tests: writes frames like a
 * sensor would. It keeps its end open between writes because socat exits when the last
 * holder of either pty closes it (which would be an unplug the test did not ask for).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PtyPair } from '../helpers/socat.js';

export class FakeSensor {
  private fd: number | undefined;

  constructor(private readonly path: string) {}

  open(): void {
    this.fd = openSync(this.path, 'r+');
  }

  write(bytes: Uint8Array | string): void {
    if (this.fd === undefined) throw new Error('sensor end not open');
    writeSync(this.fd, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Write `frame` every `ms` until stopped; returns the stop function. */
  stream(frame: () => Uint8Array | string, ms: number): () => void {
    const t = setInterval(() => {
      try {
        this.write(frame());
      } catch {
        // the pair was unplugged under us: the test replugs and reopens
      }
    }, ms);
    return () => clearInterval(t);
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // already gone with socat
    }
    this.fd = undefined;
  }
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A socat pty pair with a fake sensor on end `a`; the device under test reads `b`.
 * Everything is registered in `cleanup` (reverse order on teardown).
 */
export async function sensorOnPty(cleanup: (() => Promise<void> | void)[]): Promise<{ pair: PtyPair; sensor: FakeSensor }> {
  const pair = new PtyPair();
  await pair.start();
  cleanup.push(() => pair.stop());
  const sensor = new FakeSensor(pair.a);
  sensor.open();
  cleanup.push(() => sensor.close());
  return { pair, sensor };
}

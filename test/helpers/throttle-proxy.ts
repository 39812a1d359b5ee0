/**
 * A slow link on loopback: a TCP proxy that forwards each direction at most
 * `bytesPerSecond`, every byte `delayMs` late (one way), first in first out, like a
 * cellular link with a bottleneck queue. When more than `queueBytes` wait in one
 * direction it stops reading that side, so the sender's own TCP buffer fills (back
 * pressure), as in front of a real bottleneck. No loss: TCP over loopback would hide
 * it anyway (netem in a network namespace is the test for loss).
 *
 *   const link = new ThrottleProxy({ target: broker.port, bytesPerSecond: 25_000, delayMs: 150 });
 *   await link.start(); … mqtt://127.0.0.1:${link.port} … await link.stop();
 */
import net from 'node:net';

export interface ThrottleOptions {
  target: number;
  targetHost?: string;
  bytesPerSecond: number;
  delayMs: number;
  /** Bytes waiting in one direction before the proxy stops reading (default 16 KiB). */
  queueBytes?: number;
}

/** Slices a chunk into this many bytes at most, so one big write does not go out in one instant. */
const SLICE = 1024;

class Direction {
  private freeAt = 0;
  private waiting = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  bytes = 0;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly o: Required<Pick<ThrottleOptions, 'bytesPerSecond' | 'delayMs' | 'queueBytes'>>,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
  }

  private push(chunk: Buffer): void {
    for (let off = 0; off < chunk.length; off += SLICE) {
      const part = chunk.subarray(off, off + SLICE);
      const now = performance.now();
      this.freeAt = Math.max(now, this.freeAt) + (part.length * 1000) / this.o.bytesPerSecond;
      const due = this.freeAt + this.o.delayMs - now;
      this.waiting += part.length;
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.waiting -= part.length;
        this.bytes += part.length;
        if (!this.to.destroyed) this.to.write(part);
        if (this.waiting <= this.o.queueBytes && this.from.isPaused()) this.from.resume();
      }, due);
      this.timers.add(t);
    }
    if (this.waiting > this.o.queueBytes) this.from.pause();
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

export class ThrottleProxy {
  private server: net.Server | undefined;
  private readonly pairs = new Set<{ end: () => void; up: Direction }>();
  port = 0;
  /** Bytes delivered client→broker and broker→client, over all connections. */
  readonly totals = { up: 0, down: 0 };

  constructor(private readonly o: ThrottleOptions) {}

  async start(): Promise<number> {
    const opts = { bytesPerSecond: this.o.bytesPerSecond, delayMs: this.o.delayMs, queueBytes: this.o.queueBytes ?? 16 * 1024 };
    this.server = net.createServer((a) => {
      const b = net.connect({ port: this.o.target, host: this.o.targetHost ?? '127.0.0.1' });
      const up = new Direction(a, b, opts);
      const down = new Direction(b, a, opts);
      const end = () => {
        if (!this.pairs.delete(pair)) return;
        this.totals.up += up.bytes;
        this.totals.down += down.bytes;
        up.close();
        down.close();
        a.destroy();
        b.destroy();
      };
      const pair = { end, up };
      this.pairs.add(pair);
      for (const s of [a, b]) {
        s.on('error', end);
        s.on('close', end);
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    this.port = addr && typeof addr === 'object' ? addr.port : 0;
    return this.port;
  }

  /** Bytes delivered client→broker so far, open connections included. */
  bytesUp(): number {
    let n = this.totals.up;
    for (const p of this.pairs) n += p.up.bytes;
    return n;
  }

  async stop(): Promise<void> {
    for (const p of [...this.pairs]) p.end();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

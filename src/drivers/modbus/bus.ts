/**
 * One physical Modbus bus (a serial line or a TCP connection) shared by every device
 * on it. It owns everything the libraries get wrong (docs/field-notes.md#jsmodbus-desync,
 * README "Why our own framing"): the request queue, timeouts, retries, resynchronisation and reconnects.
 *
 * Contract:
 * - `request()` queues one exchange; exchanges run strictly one at a time, lowest
 *   `priority` first (the poll's due time, so the most overdue poll goes next; writes
 *   jump the queue), FIFO among equals. It resolves with the decoded data, or rejects
 *   with ModbusTimeoutError, ModbusFrameError, ModbusExceptionError or ModbusLinkError.
 *   Exceptions are never retried; timeouts and bad frames are retried `retries` times.
 * - After any timeout or bad frame on RTU the bus waits for the line to go quiet and
 *   throws away what it received (resync), so a late answer or line noise cannot be
 *   taken for the next reply. On TCP, stale answers are recognised by transaction id;
 *   an undecodable stream or 3 timeouts in a row drop the connection.
 * - A lost port or connection is reopened on demand, no sooner than an exponential
 *   backoff allows; meanwhile requests fail at once with ModbusLinkError (they never
 *   pile up behind a dead link).
 * - Nothing here throws out of a timer or callback; `close()` rejects what is queued.
 */
import { Backoff } from '../../core/backoff.js';
import { sleep, type Clock } from '../../core/clock.js';
import { describeError } from '../../core/errors.js';
import { BusStats } from './bus-stats.js';
import { ModbusExceptionError, ModbusFrameError, ModbusLinkError, ModbusTimeoutError } from './errors.js';
import type { ByteLink } from './link.js';
import { decodeResponse, describeRequest, encodeRequest, functionCode, responseLength, type ModbusData, type ModbusRequest } from './pdu.js';
import { buildRtuFrame, parseRtuResponse } from './rtu-frame.js';
import { buildTcpFrame, parseTcpFrame } from './tcp-frame.js';

export interface BusOptions {
  name: string;
  kind: 'rtu' | 'tcp';
  link: ByteLink;
  clock: Clock;
  timeoutMs: number;
  retries: number;
  /** RTU: silence kept between frames. */
  interFrameMs: number;
  reconnect: { min: number; max: number };
}

export interface BusRequest {
  unit: number;
  request: ModbusRequest;
  /** Lower goes first: a poll's due time (mono ms); writes use -Infinity. */
  priority?: number;
  timeoutMs?: number;
  retries?: number;
  /** If aborted while the request waits in the queue, it is rejected with the reason instead of sent. */
  signal?: AbortSignal;
}

export interface BusResult {
  data: ModbusData;
  latencyMs: number;
}

interface Job {
  req: BusRequest;
  seq: number;
  resolve(r: BusResult): void;
  reject(e: unknown): void;
}

/** The one exchange on the wire. */
interface Flight {
  unit: number;
  fc: number;
  plen: number;
  tid: number;
  timeoutMs: number;
  resolve(pdu: Buffer): void;
  reject(err: Error): void;
  cancelTimer: (() => void) | undefined;
}

const MAX_RX = 64 * 1024;

export class ModbusBus {
  readonly stats = new BusStats();
  private queue: Job[] = [];
  private seq = 0;
  private busy = false;
  private closed = false;
  private linkUp = false;
  private nextOpenAt = 0;
  private lastError: string | undefined;
  private readonly backoff: Backoff;
  private rx: Buffer = Buffer.alloc(0);
  private lastRxAt = 0;
  private flight: Flight | undefined;
  private tid = 0;
  private timeoutStreak = 0;
  private opens = 0;

  constructor(private readonly opts: BusOptions) {
    this.backoff = new Backoff({ base: opts.reconnect.min, max: opts.reconnect.max, jitter: 0.5 }, () => opts.clock.random());
  }

  get name(): string {
    return this.opts.name;
  }

  get queued(): number {
    return this.queue.length;
  }

  request(req: BusRequest): Promise<BusResult> {
    if (this.closed) return Promise.reject(new ModbusLinkError(`bus ${this.name} is closed`));
    return new Promise((resolve, reject) => {
      const job: Job = { req, seq: this.seq++, resolve, reject };
      const p = req.priority ?? 0;
      let i = this.queue.length;
      while (i > 0 && (this.queue[i - 1]?.req.priority ?? 0) > p) i--;
      this.queue.splice(i, 0, job);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        // A device stopped while its request waited: drop it without touching the
        // line. (Checked here rather than with an abort listener per request: this
        // is the hot path, and a listener per request is what leaked before.)
        if (job.req.signal?.aborted) {
          job.reject(job.req.signal.reason ?? new Error('aborted'));
          continue;
        }
        try {
          job.resolve(await this.run(job.req));
        } catch (err) {
          job.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async run(req: BusRequest): Promise<BusResult> {
    const retries = req.retries ?? this.opts.retries;
    const timeout = req.timeoutMs ?? this.opts.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (!this.linkUp || !this.opts.link.isOpen) await this.ensureOpen();
      this.stats.requests++;
      const t0 = this.opts.clock.mono();
      try {
        const pdu = await this.exchange(req.unit, req.request, timeout);
        let data: ModbusData;
        try {
          data = decodeResponse(req.request, pdu);
        } catch (err) {
          if (err instanceof ModbusExceptionError) throw err;
          throw new ModbusFrameError('mismatch', `unit ${req.unit}: ${describeError(err)}`);
        }
        const latencyMs = this.opts.clock.mono() - t0;
        this.stats.responses++;
        this.stats.outcome(true, latencyMs);
        this.timeoutStreak = 0;
        return { data, latencyMs };
      } catch (err) {
        if (err instanceof ModbusExceptionError) {
          // The slave is alive and answered; only this request is refused.
          this.stats.responses++;
          this.stats.exceptions++;
          this.stats.outcome(true);
          this.timeoutStreak = 0;
          throw err;
        }
        this.stats.outcome(false);
        this.lastError = `unit ${req.unit}, ${describeRequest(req.request)}: ${describeError(err)}`;
        if (err instanceof ModbusLinkError) throw err;
        await this.recover(err);
        if (attempt >= retries || this.closed) throw err;
        this.stats.retries++;
      } finally {
        if (this.opts.kind === 'rtu' && this.opts.interFrameMs > 0) await sleep(this.opts.clock, this.opts.interFrameMs);
      }
    }
  }

  /** After a timeout or bad frame: count it, and get back to a known state. */
  private async recover(err: unknown): Promise<void> {
    if (err instanceof ModbusTimeoutError) {
      this.stats.timeouts++;
      this.timeoutStreak++;
    } else if (err instanceof ModbusFrameError) {
      if (err.fault === 'crc') this.stats.crc_errors++;
      else this.stats.framing_errors++;
    }
    if (this.opts.kind === 'tcp') {
      // A TCP stream that stopped making sense, or a peer that stopped answering
      // (half-open after a power cycle), is only fixed by a new connection.
      if (err instanceof ModbusFrameError || this.timeoutStreak >= 3) {
        this.timeoutStreak = 0;
        await this.dropLink(`dropping the connection to ${this.opts.link.name} after: ${describeError(err)}`, true);
      }
      return;
    }
    await this.resync();
  }

  /** RTU: wait until the line has been quiet for a while, then forget what arrived. */
  private async resync(): Promise<void> {
    this.stats.resyncs++;
    const quiet = Math.max(20, this.opts.interFrameMs * 4);
    const deadline = this.opts.clock.mono() + Math.max(quiet * 10, this.opts.timeoutMs);
    while (this.opts.clock.mono() - this.lastRxAt < quiet && this.opts.clock.mono() < deadline) {
      await sleep(this.opts.clock, quiet);
    }
    this.stats.noise_bytes += this.rx.length;
    this.rx = Buffer.alloc(0);
  }

  /**
   * Send one frame and wait for its answer. The in-flight exchange lives in
   * `this.flight` (not in closures) because this is the hot path: one per request.
   */
  private exchange(unit: number, request: ModbusRequest, timeoutMs: number): Promise<Buffer> {
    const pdu = encodeRequest(request);
    const tcp = this.opts.kind === 'tcp';
    const tid = (this.tid = (this.tid + 1) & 0xffff);
    if (!tcp) {
      // Anything that arrived between exchanges is not an answer to this request.
      this.stats.noise_bytes += this.rx.length;
      this.rx = Buffer.alloc(0);
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.flight = { unit, fc: functionCode(request), plen: responseLength(request), tid, timeoutMs, resolve, reject, cancelTimer: undefined };
      this.flight.cancelTimer = this.opts.clock.setTimer(timeoutMs, this.onTimeout);
      this.opts.link.write(tcp ? buildTcpFrame(tid, unit, pdu) : buildRtuFrame(unit, pdu)).catch(this.onWriteError);
      if (this.rx.length > 0) this.check(); // TCP: bytes that arrived before we asked
    });
  }

  private finish(err: Error | undefined, out?: Buffer): void {
    const f = this.flight;
    if (!f) return;
    this.flight = undefined;
    f.cancelTimer?.();
    if (err) f.reject(err);
    else f.resolve(out as Buffer);
  }

  /** Look for the in-flight exchange's answer in what has been received. */
  private check(): void {
    const f = this.flight;
    if (!f) return;
    if (this.opts.kind === 'tcp') {
      for (;;) {
        const r = parseTcpFrame(this.rx);
        if (r.kind === 'need-more') return;
        if (r.kind === 'bad') return this.finish(new ModbusFrameError('garbage', `${this.opts.link.name}: ${r.detail}`));
        this.rx = this.rx.subarray(r.end);
        if (r.tid !== f.tid) {
          this.stats.stale_responses++; // a late answer to a request we gave up on
          continue;
        }
        if (r.unit !== f.unit) return this.finish(new ModbusFrameError('mismatch', `answer came from unit ${r.unit}, expected ${f.unit}`));
        return this.finish(undefined, r.pdu);
      }
    }
    const r = parseRtuResponse(this.rx, f.unit, f.fc, f.plen);
    if (r.kind === 'frame') {
      this.stats.noise_bytes += r.skipped;
      this.rx = this.rx.subarray(r.end);
      return this.finish(undefined, r.pdu);
    }
    // A complete frame from our slave with a bad CRC fails now; anything else may
    // still be followed by the real answer, so the timeout decides.
    if (r.kind === 'bad' && r.fault === 'crc') this.finish(new ModbusFrameError('crc', `CRC error in the answer from unit ${f.unit}`));
  }

  private readonly onTimeout = (): void => {
    const f = this.flight;
    if (!f) return;
    f.cancelTimer = undefined;
    const tcp = this.opts.kind === 'tcp';
    if (tcp && this.rx.length > 0) {
      // Half a frame on a stream: whatever follows would be misread. Reconnect.
      return this.finish(new ModbusFrameError('truncated', `${this.opts.link.name} sent ${this.rx.length} bytes of an unfinished frame`));
    }
    if (!tcp && this.rx.length > 0) {
      const r = parseRtuResponse(this.rx, f.unit, f.fc, f.plen);
      const fault = r.kind === 'need-more' && r.candidate ? 'truncated' : 'garbage';
      return this.finish(new ModbusFrameError(fault, `unit ${f.unit} sent ${this.rx.length} bytes that are not a valid answer (${fault})`));
    }
    this.finish(
      new ModbusTimeoutError(
        `unit ${f.unit} on bus ${this.name} did not answer within ${f.timeoutMs}ms — check the unit id, wiring (A/B swapped?), baud rate and parity`,
      ),
    );
  };

  private readonly onWriteError = (err: unknown): void => {
    const unit = this.flight?.unit;
    void this.dropLink(`write to ${this.opts.link.name} failed: ${describeError(err)}`, false);
    this.finish(new ModbusLinkError(`cannot write to ${this.opts.link.name}${unit === undefined ? '' : ` (unit ${unit})`}: ${describeError(err)}`));
  };

  private async ensureOpen(): Promise<void> {
    if (this.linkUp && this.opts.link.isOpen) return;
    if (this.closed) throw new ModbusLinkError(`bus ${this.name} is closed`);
    const now = this.opts.clock.mono();
    if (now < this.nextOpenAt) {
      throw new ModbusLinkError(`${this.opts.link.name} is down (${this.lastError ?? 'not open'}); next attempt in ${Math.ceil((this.nextOpenAt - now) / 1000)}s`);
    }
    try {
      this.rx = Buffer.alloc(0);
      await this.opts.link.open({
        data: (d) => this.onData(d),
        closed: (err) => void this.dropLink(err ? describeError(err) : `${this.opts.link.name} closed`, false, err),
      });
      if (this.closed) {
        await this.opts.link.close();
        throw new ModbusLinkError(`bus ${this.name} is closed`);
      }
      if (this.opens++ > 0) this.stats.reconnects++;
      this.linkUp = true;
      this.backoff.reset();
    } catch (err) {
      if (err instanceof ModbusLinkError) throw err;
      this.stats.link_errors++;
      this.lastError = describeError(err);
      this.nextOpenAt = this.opts.clock.mono() + this.backoff.next();
      throw new ModbusLinkError(this.lastError);
    }
  }

  private onData(d: Buffer): void {
    this.lastRxAt = this.opts.clock.mono();
    this.rx = this.rx.length === 0 ? d : Buffer.concat([this.rx, d]);
    if (this.rx.length > MAX_RX) {
      this.stats.noise_bytes += this.rx.length;
      this.rx = Buffer.alloc(0);
    }
    this.check();
  }

  private async dropLink(reason: string, active: boolean, err?: Error): Promise<void> {
    const wasUp = this.linkUp;
    this.linkUp = false;
    this.lastError = reason;
    if (wasUp) {
      if (!active) this.stats.link_errors++;
      // Reconnect immediately after one drop; back off only if reopening keeps failing.
      this.nextOpenAt = active ? 0 : this.opts.clock.mono() + this.backoff.next();
    }
    const unit = this.flight?.unit;
    if (this.flight) this.finish(new ModbusLinkError(`${this.opts.link.name} went down during a request to unit ${unit}: ${describeError(err ?? new Error(reason))}`));
    await this.opts.link.close();
    this.rx = Buffer.alloc(0);
  }

  snapshot(): Record<string, unknown> {
    return {
      type: `modbus-${this.opts.kind}`,
      port: this.opts.link.name,
      ...this.stats.snapshot({ linkUp: this.linkUp && this.opts.link.isOpen, queued: this.queue.length, ...(this.lastError ? { lastError: this.lastError } : {}) }),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      job.reject(new ModbusLinkError(`bus ${this.name} closed`));
    }
    this.finish(new ModbusLinkError(`bus ${this.name} closed`));
    this.linkUp = false;
    await this.opts.link.close();
  }
}

/**
 * The polling loop of one Modbus device: one timer per poll interval (points may
 * override the device poll), each poll sending its planned reads through the shared
 * bus with the poll's due time as priority.
 *
 * A poll that falls due while the previous one of its group is still running (a
 * busy bus) runs right after it, once: the bus stays busy, nothing piles up, and
 * `overruns` counts how often the interval could not be kept.
 *
 * A slave that stops answering must not stall its neighbours (ThingsBoard gateway
 * #1456, Telegraf #11782): on a timeout or bad frame the rest of that poll is
 * abandoned and the device is *backed off*: its regular polls are suspended and a
 * single probe read (no retries) is sent after an exponential, jittered, capped
 * delay (`backoff_max`). The first answer resumes normal polling at once.
 *
 * Exceptions only affect the points of the refused read: "illegal data address" on
 * a merged read splits it (plan.ts splitRead) for good, and points that are still
 * refused are emitted with value null and quality bad every poll.
 */
import { Backoff } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Sample } from '../../core/reading.js';
import type { DeviceHealthReporter } from '../../core/health-reporter.js';
import type { BusRequest, ModbusBus } from './bus.js';
import { decodeRead } from './decode-points.js';
import { EXCEPTION_NAMES, ModbusExceptionError, ModbusFrameError, ModbusLinkError, ModbusTimeoutError } from './errors.js';
import { splitRead, type PlannedRead } from './plan.js';
import type { PointSpec } from './points.js';

export interface PollGroup {
  poll: number;
  reads: PlannedRead<PointSpec>[];
}

export interface PollerDeps {
  device: string;
  busName: string;
  unit: number;
  bus: Pick<ModbusBus, 'request'>;
  clock: Clock;
  health: DeviceHealthReporter;
  log: Logger;
  emit(samples: Sample[]): void;
  timeoutMs?: number;
  backoffMax: number;
  signal: AbortSignal;
}

interface GroupState extends PollGroup {
  running: boolean;
  /** Due time of a poll that fell due while the previous one was still running. */
  pending?: number;
  cancel?: () => void;
}

export class DevicePoller {
  private readonly groups: GroupState[];
  private readonly backoff: Backoff;
  private backedOff = false;
  private cancelProbe: (() => void) | undefined;
  private stopped = false;
  private readonly refused = new Set<string>();

  constructor(
    groups: PollGroup[],
    private readonly d: PollerDeps,
  ) {
    this.groups = groups.map((g) => ({ ...g, reads: [...g.reads], running: false }));
    const base = Math.min(...groups.map((g) => g.poll));
    this.backoff = new Backoff({ base, max: Math.max(base, d.backoffMax), jitter: 0.5 }, () => d.clock.random());
  }

  /** Current plan (after any splits), for tests and `--explain`. */
  plan(): PollGroup[] {
    return this.groups.map((g) => ({ poll: g.poll, reads: [...g.reads] }));
  }

  start(): void {
    const now = this.d.clock.mono();
    for (const g of this.groups) this.schedule(g, now);
  }

  stop(): void {
    this.stopped = true;
    for (const g of this.groups) g.cancel?.();
    this.cancelProbe?.();
  }

  private schedule(g: GroupState, due: number): void {
    if (this.stopped) return;
    g.cancel = this.d.clock.setTimer(due - this.d.clock.mono(), () => {
      let next = due + g.poll;
      const now = this.d.clock.mono();
      if (next <= now) {
        const missed = Math.ceil((now - next) / g.poll);
        this.d.health.count('overruns', missed);
        next += missed * g.poll;
      }
      this.schedule(g, next);
      if (this.backedOff) return; // the probe owns the device while it is backed off
      if (g.running) {
        // The previous poll is still waiting for the bus: run one more right after
        // it (never a backlog), keeping its due time so it is not starved.
        this.d.health.count('overruns');
        g.pending ??= due;
        return;
      }
      void this.poll(g, due);
    });
  }

  private async poll(g: GroupState, due: number): Promise<void> {
    g.running = true;
    try {
      for (let i = 0; i < g.reads.length && !this.stopped; i++) {
        const read = g.reads[i] as PlannedRead<PointSpec>;
        const outcome = await this.read(read, due, false);
        if (outcome === 'split') {
          const parts = splitRead(read);
          g.reads.splice(i, 1, ...parts);
          this.d.log.warn({ device: this.d.device, bus: this.d.busName, parts: parts.length }, 'slave refused a merged read: reading its parts separately from now on');
          i--;
        } else if (outcome === 'dead') {
          this.enterBackoff();
          return;
        } else if (outcome === 'link') return;
      }
    } finally {
      g.running = false;
      const next = g.pending;
      g.pending = undefined;
      if (next !== undefined && !this.stopped && !this.backedOff) void this.poll(g, next);
    }
  }

  /** One read; never throws. */
  private async read(read: PlannedRead<PointSpec>, priority: number, probe: boolean): Promise<'ok' | 'split' | 'dead' | 'link' | 'refused'> {
    const where = `device ${this.d.device}, bus ${this.d.busName}, unit ${this.d.unit}, ${read.table} ${read.address}+${read.count}`;
    this.d.health.count('requests');
    try {
      const req: BusRequest = { unit: this.d.unit, request: { kind: 'read', table: read.table, address: read.address, count: read.count }, priority, signal: this.d.signal };
      if (this.d.timeoutMs !== undefined) req.timeoutMs = this.d.timeoutMs;
      if (probe) req.retries = 0;
      const r = await this.d.bus.request(req);
      if (this.stopped) return 'link'; // answered after stop(): the device is gone, emit nothing
      this.d.health.success(r.latencyMs);
      this.d.emit(decodeRead(read, r.data));
      return 'ok';
    } catch (err) {
      if (this.stopped) return 'link';
      if (err instanceof ModbusExceptionError) {
        this.d.health.count('exceptions');
        if (err.code === 2 && splitRead(read).length > 0) return 'split';
        this.d.emit(read.points.map((p) => ({ point: p.name, value: null, quality: 'bad' as const })));
        const key = `${read.table}:${read.address}:${err.code}`;
        if (!this.refused.has(key)) {
          this.refused.add(key);
          this.d.log.warn({ device: this.d.device, bus: this.d.busName, points: read.points.map((p) => p.name) },
            `${where}: slave answered exception ${err.code} (${EXCEPTION_NAMES[err.code] ?? 'unknown'}) — check the register map; these points are sent with quality bad`);
        }
        return 'refused';
      }
      if (err instanceof ModbusTimeoutError) this.d.health.count('timeouts');
      else if (err instanceof ModbusFrameError) this.d.health.count(err.fault === 'crc' ? 'crc_errors' : 'framing_errors');
      this.d.health.error(err, where);
      if (err instanceof ModbusLinkError) return 'link';
      return 'dead';
    }
  }

  private enterBackoff(): void {
    if (this.stopped) return;
    if (!this.backedOff) {
      this.backedOff = true;
      this.d.log.warn({ device: this.d.device, bus: this.d.busName, unit: this.d.unit }, `device ${this.d.device} (unit ${this.d.unit} on bus ${this.d.busName}) is not answering: probing with backoff`);
    }
    const delay = this.backoff.next();
    this.d.health.count('backoffs');
    this.cancelProbe = this.d.clock.setTimer(delay, () => void this.probe());
  }

  private async probe(): Promise<void> {
    const g = this.groups[0];
    const read = g?.reads[0];
    if (!g || !read || this.stopped) return;
    const outcome = await this.read(read, this.d.clock.mono(), true);
    if (outcome === 'dead' || outcome === 'link') return this.enterBackoff();
    this.backedOff = false;
    this.backoff.reset();
    this.d.log.info({ device: this.d.device, bus: this.d.busName }, `device ${this.d.device} answers again`);
    for (const grp of this.groups) if (!grp.running) void this.poll(grp, this.d.clock.mono());
  }
}


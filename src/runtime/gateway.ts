/**
 * The gateway: buffer → uplink → drivers, started in that order and stopped in
 * reverse, so nothing a driver emits can arrive before there is somewhere durable to
 * put it, and nothing is lost on the way down:
 *   start: open buffer, start uplink, start health, start drivers;
 *   stop:  stop drivers, commit what they emitted, let the uplink deliver for up to
 *          `drainMs`, close shared hardware, close the buffer.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { describeError } from '../core/errors.js';
import { RefCountedResources } from '../core/resources.js';
import type { GatewayConfig } from '../config/schema.js';
import { SqliteBuffer } from '../buffer/sqlite-buffer.js';
import { GroupCommitter } from '../buffer/group-commit.js';
import { MqttUplink } from '../uplink/mqtt-uplink.js';
import { Topics, type HealthPayload } from '../uplink/topics.js';
import { systemVitals } from '../health/system.js';
import { VERSION } from '../version.js';
import { buildDevices, type DeviceRuntime } from './devices.js';
import { StatusServer } from '../health/http.js';
import { removePid, writePid } from './pidfile.js';
import { TimeWatch } from './time-watch.js';
import { compactHealth } from '../health/compact.js';

export interface GatewayOptions {
  clock?: Clock;
  log?: Logger;
  /** Longest the uplink may keep delivering during stop (default 5 s). */
  drainMs?: number;
}

export class Gateway {
  readonly topics: Topics;
  readonly clock: Clock;
  readonly log: Logger;
  buffer!: SqliteBuffer;
  uplink!: MqttUplink;
  committer!: GroupCommitter;
  devices: DeviceRuntime[] = [];
  private readonly resources = new RefCountedResources();
  private startedAt = 0;
  private startedMono = 0;
  private cancelHealth: (() => void) | undefined;
  private cancelExpire: (() => void) | undefined;
  private http: StatusServer | undefined;
  private running = false;
  /** Set while buffer commits fail (disk full, I/O error); cleared by the next good one. */
  private commitFailure: string | undefined;

  constructor(
    readonly config: GatewayConfig,
    private readonly opts: GatewayOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
    this.topics = Topics.forGateway(config.gateway.id, config.uplink.topic_root);
  }

  async start(): Promise<void> {
    const c = this.config;
    this.startedAt = this.clock.now();
    this.startedMono = this.clock.mono();
    this.buffer = new SqliteBuffer({
      dataDir: c.gateway.data_dir,
      maxBytes: c.buffer.max_bytes,
      maxAgeMs: c.buffer.max_age,
      onFull: c.buffer.on_full,
      synchronous: c.buffer.synchronous,
      maxReadingsPerRow: c.uplink.batch.max_readings,
      clock: this.clock,
    });
    writePid(c.gateway.data_dir);
    this.log.info({ file: join(c.gateway.data_dir, 'buffer.db'), ...this.buffer.stats() }, 'buffer open');
    this.uplink = new MqttUplink({
      config: c.uplink,
      gatewayId: c.gateway.id,
      topics: this.topics,
      buffer: this.buffer,
      clock: this.clock,
      log: this.log.child({ part: 'uplink' }),
      version: VERSION,
      startedAt: this.startedAt,
    });
    this.committer = new GroupCommitter(this.buffer, {
      intervalMs: c.buffer.commit_interval,
      max: c.buffer.commit_max,
      clock: this.clock,
      onCommit: (r) => {
        this.commitFailure = undefined;
        if (r.dropped || r.rejected) this.log.warn(r, 'buffer full: readings dropped or rejected (see events)');
        this.uplink.notify();
      },
      onError: (err, pending) => {
        this.commitFailure = describeError(err);
        this.log.error({ pending }, `buffer: commit failed (${this.commitFailure}) — is the disk full? ${c.gateway.data_dir}`);
      },
    });
    this.buffer.addEvent({ type: 'gateway_started', version: VERSION });
    this.uplink.start();
    this.scheduleHealth();
    this.scheduleExpire();
    if (c.health.http !== false) {
      this.http = new StatusServer(c.health.http, () => this.health(), this.log);
      await this.http.start().catch((err) => this.log.warn(`status page not started: ${describeError(err)}`));
    }
    const timeWatch = new TimeWatch(this.clock, (offset, from, to) => {
      // Everything stamped with the old clock is committed first, so last_seq_before is exact.
      this.committer.flush();
      const lastSeq = this.buffer.stats().nextSeq - 1;
      this.log.warn({ offset_ms: offset }, `wall clock stepped by ${offset} ms (NTP sync?); readings up to seq ${lastSeq} used the old clock`);
      this.buffer.addEvent({ type: 'clock_step', offset_ms: offset, from, to, last_seq_before: lastSeq });
      this.uplink.notify();
    });
    if (!timeWatch.trusted()) this.log.warn('wall clock is before 2025: not synchronised yet — readings are marked "uncertain" until it is');
    this.devices = buildDevices({
      beforeStamp: () => timeWatch.check(),
      clockTrusted: () => timeWatch.trusted(),
      config: c,
      clock: this.clock,
      log: this.log,
      committer: this.committer,
      resources: this.resources,
      state: this.buffer.state,
      onTransition: (device, from, to, reason) => {
        this.log[to === 'ok' ? 'info' : 'warn']({ device, from, to, reason }, `device ${device} is ${to}`);
        this.buffer.addEvent({ type: 'device_state', device, from, to, ...(reason ? { reason } : {}) });
        this.uplink.notify();
      },
    });
    await Promise.all(this.devices.map((d) => d.supervisor.start()));
    this.running = true;
    this.log.info({ devices: this.devices.length, topics: this.topics.root }, 'gateway started');
  }

  private scheduleHealth(): void {
    this.cancelHealth = this.clock.setTimer(this.config.health.interval, () => {
      try {
        for (const d of this.devices) d.health.check();
        const h = this.health();
        this.uplink.publishHealth([() => JSON.stringify(h), () => JSON.stringify(compactHealth(h))]);
      } catch (err) {
        this.log.warn(`health snapshot failed: ${describeError(err)}`);
      }
      this.scheduleHealth();
    });
  }

  private scheduleExpire(): void {
    const every = Math.min(60_000, Math.max(1000, this.config.buffer.max_age / 10));
    this.cancelExpire = this.clock.setTimer(every, () => {
      try {
        if (this.buffer.expire() > 0) this.uplink.notify();
      } catch (err) {
        this.log.error(`buffer: expiring old readings failed: ${describeError(err)}`);
      }
      this.scheduleExpire();
    });
  }

  health(): HealthPayload {
    const b = this.buffer.stats();
    const u = this.uplink.stats();
    const devices: HealthPayload['devices'] = {};
    for (const d of this.devices) devices[d.id] = d.health.snapshot();
    const uplink: HealthPayload['uplink'] = {
      state: u.state,
      reconnects: u.reconnects,
      published: u.published,
      acked_readings: u.ackedReadings,
    };
    if (u.connectedSince !== undefined) uplink.connected_since = u.connectedSince;
    if (u.lastError !== undefined) uplink.last_error = u.lastError;
    if (u.insecure) uplink.insecure = true;
    return {
      gateway: this.config.gateway.id,
      ts: this.clock.now(),
      version: VERSION,
      uptime_s: Math.round((this.clock.mono() - this.startedMono) / 1000),
      uplink,
      buffer: {
        readings: b.readings,
        rows: b.rows,
        bytes: b.bytes,
        file_bytes: b.fileBytes,
        oldest_age_s: b.oldestCommittedAt === null ? null : Math.round((this.clock.now() - b.oldestCommittedAt) / 1000),
        next_seq: b.nextSeq,
        dropped: b.droppedTotal,
        rejected: b.rejectedTotal,
        pending_events: b.pendingEvents,
      },
      devices,
      buses: this.resources.snapshots(),
      system: systemVitals(this.config.gateway.data_dir),
    };
  }

  /** A device's running driver, for downlink actions. */
  driver(device: string) {
    return this.devices.find((d) => d.id === device)?.supervisor.current();
  }

  async stop(): Promise<void> {
    if (!this.buffer) return;
    this.running = false;
    await Promise.allSettled(this.devices.map((d) => d.supervisor.stop()));
    this.committer.flush();
    this.committer.stop();
    this.cancelHealth?.();
    this.cancelExpire?.();
    try {
      this.buffer.addEvent({ type: 'gateway_stopping', version: VERSION });
    } catch {
      // best effort
    }
    await this.uplink.stop(this.opts.drainMs ?? 5000);
    await this.resources.closeAll();
    await this.http?.stop();
    this.buffer.close();
    removePid(this.config.gateway.data_dir);
    this.log.info('gateway stopped');
  }

  /**
   * For the systemd watchdog (runtime/sd-notify.ts): undefined while the buffer
   * commits, else why not. Never the uplink: an absent broker is not a reason to restart.
   */
  liveness(): string | undefined {
    return this.commitFailure === undefined ? undefined : `buffer commits failing: ${this.commitFailure}`;
  }

  get isRunning(): boolean {
    return this.running;
  }
}

/**
 * The gateway: buffer → uplink → drivers, started in that order and stopped in
 * reverse, so nothing a driver emits can arrive before there is somewhere durable to
 * put it, and nothing is lost on the way down:
 *   start: open buffer, start uplink, start health, start drivers;
 *   stop:  stop drivers, commit what they emitted, let the uplink deliver for up to
 *          `drainMs`, close shared hardware, close the buffer.
 */
import { basename } from 'node:path';
import { takeOutcome } from '../release/request.js';
import { healthSnapshot } from './health-snapshot.js';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { describeError } from '../core/errors.js';
import { RefCountedResources } from '../core/resources.js';
import type { GatewayConfig } from '../config/schema.js';
import { SqliteBuffer } from '../buffer/sqlite-buffer.js';
import { DirLock } from '../buffer/dir-lock.js';
import { prepareDataDir } from '../buffer/open-db.js';
import { LogLimiter } from '../core/log-limiter.js';
import { GroupCommitter } from '../buffer/group-commit.js';
import { MqttUplink } from '../uplink/mqtt-uplink.js';
import { Topics, type HealthPayload } from '../uplink/topics.js';
import { VERSION } from '../version.js';
import { buildDevices, type DeviceRuntime, type DeviceWiring } from './devices.js';
import { StatusServer } from '../health/http.js';
import { removePid } from '../buffer/pidfile.js';
import { openGatewayBuffer } from './open-buffer.js';
import { commitReports } from './commit-reports.js';
import { TimeWatch } from './time-watch.js';
import { compactHealth } from '../health/compact.js';
import { GatewayEvents } from './events.js';
import { wireCommands } from '../commands/index.js';
import { createDialect, type CommandRoute, type Dialect } from '../uplink/dialects/index.js';
import { LiveState } from '../health/live.js';
import { ConfigReloader } from '../control/reload.js';
import type { ConfigDiff } from '../control/diff.js';
import type { CommandDispatcher } from '../commands/dispatcher.js';
import { HomeAssistantPublisher } from '../homeassistant/index.js';

export interface GatewayOptions {
  clock?: Clock;
  log?: Logger;
  /** Longest the uplink may keep delivering during stop (default 5 s). */
  drainMs?: number;
  /** The file the config came from: enables the `config` / `reload_config` commands and `reload()` (SIGHUP). */
  configFile?: string;
  /** How long a changed config must stay healthy before it is kept (default 60 s). */
  reloadGraceMs?: number;
  /** The trusted release keys for the `update` command (default /etc/citygate/keys; never from the config). */
  trustDir?: string;
}

export class Gateway {
  readonly topics: Topics;
  readonly clock: Clock;
  readonly log: Logger;
  buffer!: SqliteBuffer;
  uplink!: MqttUplink;
  committer!: GroupCommitter;
  events!: GatewayEvents;
  devices: DeviceRuntime[] = [];
  private readonly resources = new RefCountedResources();
  private startedAt = 0;
  private startedMono = 0;
  private cancelHealth: (() => void) | undefined;
  private cancelExpire: (() => void) | undefined;
  private http: StatusServer | undefined;
  private running = false;
  private stopping?: Promise<void>;
  private lock: DirLock | undefined;
  private readonly bufferFaults: LogLimiter;
  private lastDisk: string | undefined;
  /** Last value per point and last events, for the status page (src/health/live.ts). */
  readonly live = new LiveState();
  /** Set when started from a file: applies config changes (src/control/reload.ts). */
  reloader: ConfigReloader | undefined;
  private commands: CommandDispatcher | undefined;
  /** What goes on the wire (uplink.dialect); fixed for the run (a dialect change needs a restart). */
  dialect!: Dialect;
  /** How commands come in (the dialect's), for wireCommands. */
  get commandRoute(): CommandRoute {
    return this.dialect.commands;
  }
  private wiring: DeviceWiring | undefined;
  private homeassistant: HomeAssistantPublisher | undefined;
  /** Monotonic time of the last commit attempt that finished (committed or failed and handled). */
  private lastCommitTurn = 0;

  constructor(
    /** Replaced (never mutated) when a config change is applied. */
    public config: GatewayConfig,
    private readonly opts: GatewayOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
    this.topics = Topics.forGateway(config.gateway.id, config.uplink.topic_root);
    this.bufferFaults = new LogLimiter(this.clock);
  }

  async start(): Promise<void> {
    const c = this.config;
    this.stopping = undefined;
    this.startedAt = this.clock.now();
    this.startedMono = this.clock.mono();
    // One owner per data_dir: a second gateway would hand out the same seqs.
    const loosened = prepareDataDir(c.gateway.data_dir);
    if (loosened !== undefined) this.log.warn(`${c.gateway.data_dir} was readable by others (mode ${loosened.toString(8)}): tightened to 700 — the buffer holds every reading`);
    this.lock = new DirLock(c.gateway.data_dir);
    this.lock.acquire();
    this.buffer = openGatewayBuffer(c, this.clock, this.log, this.lock, {
      onFault: (what, err) => this.bufferFault(what, err),
      onEvent: (e) => this.live.noteEvent(e),
    });
    this.dialect = createDialect({
      config: c,
      topics: this.topics,
      version: VERSION,
      startedAt: this.startedAt,
      clock: this.clock,
      log: this.log.child({ part: 'dialect' }),
      // Read when the link comes up: the devices as they are then (built after the uplink starts).
      deviceStates: () => Object.fromEntries(this.devices.map((d) => [d.id, d.health.state()])),
    });
    this.uplink = new MqttUplink({
      dialect: this.dialect,
      config: c.uplink,
      gatewayId: c.gateway.id,
      topics: this.topics,
      buffer: this.buffer,
      clock: this.clock,
      log: this.log.child({ part: 'uplink' }),
      version: VERSION,
      startedAt: this.startedAt,
      // A fresh health snapshot with every (re)connect: a fleet watcher must not see one a whole interval old.
      onOnline: () => this.publishHealthNow(),
    });
    this.events = new GatewayEvents(this.buffer, () => this.uplink.notify());
    this.committer = new GroupCommitter(this.buffer, {
      intervalMs: c.buffer.commit_interval,
      max: c.buffer.commit_max,
      onFull: c.buffer.on_full,
      clock: this.clock,
      ...commitReports({
        clock: this.clock,
        log: this.log,
        dataDir: c.gateway.data_dir,
        turned: () => (this.lastCommitTurn = this.clock.mono()),
        notify: () => this.uplink.notify(),
        lostToFailure: () => this.committer.lostToFailure,
        watchDisk: () => this.watchDisk(),
      }),
    });
    this.events.emit({ type: 'gateway_started', version: VERSION });
    this.uplink.start();
    this.commands = wireCommands(this, this.opts.trustDir); // downlink commands (src/commands)
    this.homeassistant = new HomeAssistantPublisher({
      config: () => this.config,
      topics: this.topics,
      clock: this.clock,
      log: this.log.child({ part: 'homeassistant' }),
      uplink: this.uplink,
      live: { points: () => this.live.lastPoints() },
    }); // publishes nothing unless homeassistant.enabled
    this.homeassistant.start();
    this.announceUpdate();
    this.scheduleHealth();
    this.scheduleExpire();
    if (c.health.http !== false) {
      this.http = new StatusServer(c.health.http, () => this.health(), this.log, {
        view: () => this.live.view(this.health()),
        changed: () => this.live.version,
        ...(c.health.auth ? { auth: c.health.auth } : {}),
      });
      await this.http.start().catch((err) => this.log.warn(`status page not started: ${describeError(err)}`));
    }
    const timeWatch = new TimeWatch(this.clock, (offset, from, to) => {
      // Everything stamped with the old clock is committed first, so last_seq_before is
      // exact; if the disk fails, what waits in memory gets the next seqs, in order.
      this.committer.flush();
      const lastSeq = this.buffer.stats().nextSeq - 1 + this.committer.waiting;
      this.log.warn({ offset_ms: offset }, `wall clock stepped by ${offset} ms (NTP sync?); readings up to seq ${lastSeq} used the old clock`);
      this.events.emit({ type: 'clock_step', offset_ms: offset, from, to, last_seq_before: lastSeq });
    });
    if (!timeWatch.trusted()) this.log.warn('wall clock is before 2025: not synchronised yet — readings are marked "uncertain" until it is');
    this.wiring = {
      beforeStamp: () => timeWatch.check(),
      clockTrusted: () => timeWatch.trusted(),
      config: c,
      clock: this.clock,
      log: this.log,
      committer: this.committer,
      resources: this.resources,
      state: this.buffer.state,
      onReading: (r) => this.live.noteReading(r),
      onTransition: (device, from, to, reason) => {
        this.log[to === 'ok' ? 'info' : 'warn']({ device, from, to, reason }, `device ${device} is ${to}`);
        this.events.emit({ type: 'device_state', device, from, to, ...(reason ? { reason } : {}) });
      },
    };
    this.devices = buildDevices(this.wiring);
    if (this.opts.configFile) {
      this.reloader = new ConfigReloader({
        file: this.opts.configFile,
        target: this,
        log: this.log.child({ part: 'config' }),
        clock: this.clock,
        ...(this.opts.reloadGraceMs !== undefined ? { graceMs: this.opts.reloadGraceMs } : {}),
      });
    }
    await Promise.all(this.devices.map((d) => d.supervisor.start()));
    this.running = true;
    this.log.info({ devices: this.devices.length, topics: this.topics.root }, 'gateway started');
  }

  private scheduleHealth(): void {
    this.cancelHealth = this.clock.setTimer(this.config.health.interval, () => {
      this.announceUpdate();
      this.publishHealthNow();
      this.scheduleHealth();
    });
  }

  /** A finished `update` (citygate-update.service left its outcome): one event, one log line. */
  private announceUpdate(): void {
    try {
      const o = takeOutcome(this.config.gateway.data_dir);
      if (!o) return;
      const { outcome, bundle, detail } = o;
      this.events.emit({ type: 'update_result', outcome, bundle: basename(bundle), detail, ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}) });
      const line = `update ${outcome}: ${basename(bundle)} — ${detail}`;
      if (outcome === 'updated') this.log.info(line);
      else this.log.error(line);
    } catch (err) {
      this.log.warn(`reading the update outcome failed: ${describeError(err)}`);
    }
  }

  /** Publish the retained health snapshot now (also the `health` command); false if not sent. */
  publishHealthNow(): boolean {
    try {
      for (const d of this.devices) d.health.check();
      const h = this.health();
      this.uplink.publishHealth([() => JSON.stringify(h), () => JSON.stringify(compactHealth(h))]);
      return this.uplink.connected();
    } catch (err) {
      this.log.warn(`health snapshot failed: ${describeError(err)}`);
      return false;
    }
  }

  /** Seconds since this gateway started (for the `ping` command). */
  uptimeSeconds(): number {
    return Math.round((this.clock.mono() - this.startedMono) / 1000);
  }

  readonly version = VERSION;

  private scheduleExpire(): void {
    const every = Math.min(10_000, Math.max(1000, this.config.buffer.max_age / 10));
    this.cancelExpire = this.clock.setTimer(every, () => {
      try {
        if (this.buffer.expire() > 0) this.uplink.notify();
      } catch (err) {
        this.bufferFault('expiring old readings', err);
      }
      this.buffer.maintain();
      this.watchDisk();
      this.scheduleExpire();
    });
  }

  /** Log (and announce) disk state changes: ok → low → full and back. */
  private watchDisk(): void {
    let s: ReturnType<SqliteBuffer['stats']>;
    try {
      s = this.buffer.stats();
    } catch (err) {
      return this.bufferFault('reading buffer statistics', err); // called from commit callbacks: never throw
    }
    if (s.disk === this.lastDisk) return;
    const first = this.lastDisk === undefined;
    this.lastDisk = s.disk;
    if (first && s.disk === 'ok') return;
    const free = s.diskFreeBytes === null ? 'unknown' : `${Math.round(s.diskFreeBytes / 1024)} KiB`;
    const msg = {
      ok: `disk: ok again (${free} free)`,
      low: `disk: low — ${free} free on ${this.config.gateway.data_dir}, less than buffer.max_bytes needs: the buffer keeps to what fits and drops the oldest readings first`,
      full: `disk: full — writes to ${this.config.gateway.data_dir} fail: free space (df -h); readings wait in memory and the oldest are dropped and announced`,
    }[s.disk];
    this.log[s.disk === 'ok' ? 'info' : 'warn']({ disk: s.disk, free_bytes: s.diskFreeBytes }, msg);
    if (!first) this.events.emit({ type: 'disk_state', state: s.disk, free_bytes: s.diskFreeBytes, limit_bytes: this.config.buffer.max_bytes });
  }

  private bufferFault(what: string, err: unknown): void {
    const { log, repeats } = this.bufferFaults.hit();
    if (log) this.log.error({ repeats }, `buffer: ${what} failed: ${describeError(err)} (${this.config.gateway.data_dir})`);
  }

  health(): HealthPayload {
    return healthSnapshot({
      gatewayId: this.config.gateway.id,
      dataDir: this.config.gateway.data_dir,
      maxBytes: this.config.buffer.max_bytes,
      ts: this.clock.now(),
      uptimeMs: this.clock.mono() - this.startedMono,
      buffer: this.buffer.stats(),
      waitingInMemory: this.committer.waiting,
      uplink: this.uplink.stats(),
      devices: this.devices.map((d) => [d.id, d.health.snapshot()] as const),
      buses: this.resources.snapshots(),
    });
  }

  /** A device's running driver, for downlink actions. */
  driver(device: string) {
    return this.devices.find((d) => d.id === device)?.supervisor.current();
  }

  // ---- config changes in place (src/control/reload.ts) ------------------------------

  /** Stop removed and changed devices, start added and changed ones; the buffer and uplink stay. */
  async applyConfig(next: GatewayConfig, diff: ConfigDiff): Promise<void> {
    if (!this.wiring) throw new Error('the gateway is not running');
    const restart = new Set([...diff.removed, ...diff.changed]);
    await Promise.allSettled(this.devices.filter((d) => restart.has(d.id)).map((d) => d.supervisor.stop()));
    this.config = next;
    this.wiring = { ...this.wiring, config: next };
    const starting = new Set([...diff.added, ...diff.changed]);
    const kept = new Map(this.devices.filter((d) => !restart.has(d.id)).map((d) => [d.id, d]));
    const fresh = buildDevices(this.wiring).filter((d) => starting.has(d.id));
    const byId = new Map([...kept, ...fresh.map((d) => [d.id, d] as const)]);
    this.devices = (next.devices as { id: string }[]).flatMap((c) => byId.get(c.id) ?? []);
    this.commands?.reconfigure(next.commands);
    await Promise.all(fresh.map((d) => d.supervisor.start()));
  }

  deviceState(id: string): string | undefined {
    return this.devices.find((d) => d.id === id)?.health.snapshot().state;
  }

  uplinkOnline(): boolean {
    // Stalled is still connected: a slow acknowledgement is not "the uplink went offline".
    return this.uplink.connected();
  }

  // ---- end of config changes --------------------------------------------------------

  /** Idempotent: a second call (a signal during a stop, a test's cleanup) waits for the first. */
  stop(): Promise<void> {
    if (!this.buffer) return Promise.resolve();
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    this.running = false;
    this.reloader?.stop();
    this.homeassistant?.stop();
    await Promise.allSettled(this.devices.map((d) => d.supervisor.stop()));
    this.committer.flush();
    const abandoned = this.committer.abandon();
    if (abandoned > 0) this.log.error({ readings: abandoned }, `buffer: ${abandoned} readings the disk would not take are dropped on stop (announced as disk_full)`);
    this.cancelHealth?.();
    this.cancelExpire?.();
    this.commands?.close();
    this.events.emit({ type: 'gateway_stopping', version: VERSION });
    await this.uplink.stop(this.opts.drainMs ?? 5000);
    await this.resources.closeAll();
    await this.http?.stop();
    const left = this.buffer.stats();
    this.buffer.close();
    removePid(this.config.gateway.data_dir);
    this.lock?.release();
    this.log.info({ waiting: left.readings, next_seq: left.nextSeq, }, `gateway stopped: ${left.readings} readings wait in the buffer for the broker`);
  }

  /**
   * For the systemd watchdog (runtime/sd-notify.ts): undefined while the gateway is
   * alive, else why not. Alive = the buffer's commit loop turns: readings that wait are
   * tried within a minute (a retry backs off to 5 s at most). A commit that *fails* is
   * still a turn: disk full is a state the gateway handles (and must be able to drain
   * from), so it must not make systemd restart it in a loop. Never the uplink: an absent
   * broker is not a reason to restart either.
   */
  liveness(): string | undefined {
    if (!this.running || !this.committer) return undefined;
    const stalled = this.committer.waiting > 0 && this.clock.mono() - this.lastCommitTurn > 60_000;
    return stalled ? `buffer commit loop stalled: ${this.committer.waiting} readings waiting, no commit attempt for a minute` : undefined;
  }

  get isRunning(): boolean {
    return this.running;
  }
}

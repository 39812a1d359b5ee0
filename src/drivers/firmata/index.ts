/**
 * firmata — an Arduino-class board running StandardFirmata on a serial port, as one
 * device: analog pins (raw ADC counts; scale/offset in the pipeline), digital pins, and
 * johnny-five thermometer controllers on analog pins. See README.md.
 *
 * Owns: the board session through the Firmata link (link.ts; johnny-five + firmata-io on
 * serialport 13 behind it), keeping the latest value of every point and sampling them all
 * once per `poll`, and noticing a lost board. Does not own: reconnecting. An unplug (port
 * closed, write error) or a board that stays silent for `stale_after` goes to ctx.fail,
 * and the supervisor restarts the driver with backoff: never the gateway, and never by
 * exiting the process (johnny-five's exit paths are disabled in the link).
 */
import type { Driver, DriverContext, DriverDefinition } from '../../core/driver.js';
import type { Value } from '../../core/reading.js';
import { johnnyFiveLink } from './johnny-five-link.js';
import type { FirmataLink, OpenFirmataLink } from './link.js';
import { analogChannel, firmataDeviceSchema, firmataPointConfigs, pointType, type FirmataDeviceConfig } from './schema.js';
import { serialFirmataIo } from './serial-io.js';
import { serialPortNotes } from '../../core/primitives.js';

export class FirmataDriver implements Driver {
  private link: FirmataLink | undefined;
  private cancelPoll: (() => void) | undefined;
  /** Latest value of each point and when (monotonic) the board reported it. */
  private readonly latest = new Map<string, { value: Value; at: number }>();
  private failed = false;
  private stopRequested = false;
  private readonly where: string;
  /** Points the board reports continuously (analog, thermometer), by name. */
  private readonly streaming: string[];
  private startedAt = 0;

  constructor(
    private readonly config: FirmataDeviceConfig,
    private readonly open: OpenFirmataLink = johnnyFiveLink(serialFirmataIo()),
  ) {
    this.where = `firmata device "${config.id}" on ${config.port}`;
    this.streaming = config.points.filter((p) => pointType(p) !== 'digital').map((p) => p.name);
  }

  async start(ctx: DriverContext): Promise<void> {
    const c = this.config;
    this.failed = false;
    this.stopRequested = false;
    this.latest.clear();
    const link = await this.open({
      port: c.port,
      baud: c.baud,
      samplingIntervalMs: c.sampling_interval,
      timeoutMs: c.connect_timeout,
      aref: c.aref,
      clock: ctx.clock,
      signal: ctx.signal,
    });
    this.link = link;
    // stop() may have been called during the handshake: do not leave the board open
    if (this.stopRequested) return this.stop();
    ctx.log.info({ device: c.id, port: c.port }, `${this.where}: ${link.description}`);
    link.onLost((err) => this.fail(ctx, err));

    try {
      for (const p of c.points) this.subscribe(link, p, ctx);
    } catch (err) {
      // a pin this board does not have: release the port before the supervisor retries
      await this.stop();
      throw new Error(`${this.where}: ${(err as Error).message}`, { cause: err });
    }
    this.startedAt = ctx.clock.mono();
    this.schedule(ctx, this.startedAt);
  }

  private subscribe(link: FirmataLink, p: FirmataDeviceConfig['points'][number], ctx: DriverContext): void {
    const set = (value: Value): void => void this.latest.set(p.name, { value, at: ctx.clock.mono() });
    switch (pointType(p)) {
      case 'analog':
        return link.analog(analogChannel(p.pin), set);
      case 'digital':
        return link.digital(p.pin as number, p.pull_up ?? false, set);
      case 'thermometer':
        return link.thermometer(analogChannel(p.pin), p.controller as string, set);
    }
  }

  /** Polls every `poll`, anchored to `t0` so ticks do not drift; a late loop skips ticks. */
  private schedule(ctx: DriverContext, t0: number): void {
    let n = 1;
    const tick = (): void => {
      if (ctx.signal.aborted || this.failed || !this.link) return;
      this.poll(ctx);
      n = Math.max(n + 1, Math.floor((ctx.clock.mono() - t0) / this.config.poll) + 1);
      this.cancelPoll = ctx.clock.setTimer(t0 + n * this.config.poll - ctx.clock.mono(), tick);
    };
    this.cancelPoll = ctx.clock.setTimer(this.config.poll, tick);
  }

  private poll(ctx: DriverContext): void {
    const link = this.link;
    if (!link) return;
    const silent = ctx.clock.mono() - link.lastHeard();
    if (silent > this.config.stale_after) {
      this.fail(ctx, new Error(`${this.where}: no message from the board for ${Math.round(silent)}ms — unplugged, reset, or not running StandardFirmata?`));
      return;
    }
    link.ping();
    // Analog pins stream every sampling interval; one that went quiet while the board still
    // answers pings has lost its reporting (a reset we did not see): restart to set it up again.
    const now = ctx.clock.mono();
    for (const p of this.streaming) {
      const since = this.latest.get(p)?.at ?? this.startedAt;
      if (now - since > this.config.stale_after) {
        this.fail(ctx, new Error(`${this.where}: point "${p}" has not been reported for ${Math.round(now - since)}ms — the board stopped reporting it (reset?)`));
        return;
      }
    }
    const samples = [];
    for (const p of this.config.points) {
      const v = this.latest.get(p.name);
      if (v) samples.push({ point: p.name, value: v.value });
    }
    if (samples.length > 0) {
      ctx.emit(samples);
      ctx.health.success();
    }
  }

  private fail(ctx: DriverContext, err: Error): void {
    if (this.failed || ctx.signal.aborted) return;
    this.failed = true;
    this.cancelPoll?.();
    const e = err.message.startsWith('firmata device') ? err : new Error(`firmata device "${this.config.id}": ${err.message}`, { cause: err });
    ctx.health.setState('down', e.message);
    ctx.fail(e);
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    this.cancelPoll?.();
    this.cancelPoll = undefined;
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }
}

export const firmataDriver: DriverDefinition<FirmataDeviceConfig> = {
  name: 'firmata',
  description: 'An Arduino-class board running StandardFirmata over serial: analog and digital pins, thermometer chips.',
  schema: firmataDeviceSchema,
  create: (config) => new FirmataDriver(config),
  claims: (config) => [`serial:${config.port}`],
  check: (config) => serialPortNotes(config.port),
  pointConfigs: firmataPointConfigs,
};

/**
 * The serial driver at run time: a ReconnectingSerial feeding a protocol decoder.
 *
 * - Each decoded frame is emitted as one batch of samples and counts as a success for
 *   device health; checksum failures count as errors (a noisy line shows `degraded`).
 * - Decoder counters (frames_ok, checksum_failures, resyncs, bytes_discarded, and the
 *   lines protocol's own) go to health as they grow; `opens`, `port_lost` and
 *   `open_failures` track the port itself.
 * - A lost port sets the device `down` with the reason and the retry delay; the first
 *   good frame after a reopen brings it back to `ok` (DeviceHealth.success clears a forced
 *   down). Recovery happens inside the driver, without `ctx.fail`: a supervisor restart
 *   would only reopen the same port with less information.
 * - A port missing at start is treated like one unplugged later: `start()` resolves and
 *   the device reports `down` until the port appears.
 */
import type { Driver, DriverContext } from '../../core/driver.js';
import { formatDuration } from '../../core/units.js';
import { NodeSerialPorts } from '../../ports/serial/node-serialport.js';
import { ReconnectingSerial } from '../../ports/serial/reconnecting.js';
import type { SerialPorts } from '../../ports/serial/port.js';
import { createProtocol, type Protocol } from './protocols/index.js';
import { effectiveOptions, type SerialDeviceConfig } from './schema.js';

export interface SerialDriverDeps {
  /** Port implementation; default serialport 13. Tests pass SerialPortMock through NodeSerialPorts. */
  ports?: SerialPorts;
  /** Presence check period, ms (default 2000; 0 disables). */
  presenceCheckMs?: number;
}

export class SerialDriver implements Driver {
  private link: ReconnectingSerial | undefined;
  private protocol: Protocol | undefined;
  private reported: Record<string, number> = {};
  /** Set while the port is lost or reopened without a good frame yet. */
  private down = false;

  constructor(
    private readonly config: SerialDeviceConfig,
    private readonly deps: SerialDriverDeps = {},
  ) {}

  async start(ctx: DriverContext): Promise<void> {
    const c = this.config;
    const where = `serial ${c.port}`;
    const log = ctx.log.child({ device: ctx.device, port: c.port, protocol: c.protocol });
    this.reported = {};
    this.down = false;
    this.protocol = createProtocol(c.protocol, {
      lines: { regex: c.regex, columns: c.columns, separator: c.separator, convert: c.convert, max_line: c.max_line },
      clockOffset: c.clock_offset ?? true,
    });
    const protocol = this.protocol;
    // Zero counters show up in health from the start: "0 checksum failures" is information.
    for (const name of Object.keys(protocol.counters())) ctx.health.count(name, 0);
    for (const name of ['opens', 'port_lost', 'open_failures']) ctx.health.count(name, 0);
    this.link = new ReconnectingSerial({
      settings: { path: c.port, baudRate: c.baud, dataBits: c.data_bits, parity: c.parity, stopBits: c.stop_bits },
      ports: this.deps.ports ?? new NodeSerialPorts(),
      clock: ctx.clock,
      backoff: { min: c.reopen.min, max: c.reopen.max },
      silenceTimeoutMs: effectiveOptions(c).silenceTimeoutMs,
      presenceCheckMs: this.deps.presenceCheckMs ?? 2000,
      onData: (chunk) => this.onData(ctx, protocol, chunk, where),
      onOpen: () => {
        ctx.health.count('opens');
        log.info(`serial port ${c.port} open at ${c.baud} baud`);
        // Still down until a frame proves the sensor is there; say where we are.
        if (this.down) ctx.health.setState('down', `serial port ${c.port} reopened; waiting for a valid ${c.protocol} frame`);
      },
      onDown: (err, retryMs, wasOpen) => {
        ctx.health.count(wasOpen ? 'port_lost' : 'open_failures');
        const reason = `${err.message} — reopening in ${formatDuration(retryMs)}`;
        this.down = true;
        ctx.health.setState('down', reason);
        log.warn(`device ${ctx.device}: ${reason}`);
      },
      onError: (err) => ctx.health.error(err, where),
    });
    await this.link.start();
  }

  private onData(ctx: DriverContext, protocol: Protocol, chunk: Buffer, where: string): void {
    let frames;
    try {
      frames = protocol.push(chunk, ctx.clock.now());
    } catch (err) {
      // Decoders never throw by contract (fuzzed); if one ever does, report it and carry on.
      ctx.health.error(err, `${where} decoder`);
      return;
    }
    const counters = protocol.counters();
    const failed = counters.checksum_failures - (this.reported.checksum_failures ?? 0);
    for (const [name, value] of Object.entries(counters)) {
      const delta = value - (this.reported[name] ?? 0);
      if (delta > 0) ctx.health.count(name, delta);
      this.reported[name] = value;
    }
    // Errors before successes: a chunk holding a bad frame and a later good one ends `ok`.
    if (failed > 0) ctx.health.error(new Error(`${failed} frame(s) with a bad checksum from ${ctx.device} on ${this.config.port}`), where);
    for (const samples of frames) {
      if (samples.length > 0) ctx.emit(samples);
      ctx.health.success();
      this.down = false;
    }
  }

  async stop(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    await link?.stop();
  }

  /** True while the port is open (for tests and the status page). */
  get connected(): boolean {
    return this.link?.connected ?? false;
  }
}

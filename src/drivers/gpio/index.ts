/**
 * gpio — one Raspberry Pi GPIO pin as a device: a switch (`input`), a pulse counter
 * (`counter`) or a relay (`output`). See README.md for the config reference and wiring.
 *
 * Owns: opening the line through the GPIO port (src/ports/gpio, which maps BCM numbers
 * to the kernel's sysfs numbers), the mode's logic (input.ts, counter.ts, output.ts, on
 * the pure pieces debounce.ts and tally.ts), and the `gpio_set` action.
 * Does not own: scaling beyond `scale`, deadbands, timestamps (the pipeline), restarts
 * across faults (the supervisor, via ctx.fail).
 */
import type { Driver, DriverAction, DriverContext, DriverDefinition } from '../../core/driver.js';
import { describeError } from '../../core/errors.js';
import { GpiomonGpioPort, createGpioPort } from '../../ports/gpio/index.js';
import { lineName, toLevel, type GpioLine, type GpioPort } from '../../ports/gpio/port.js';
import { startCounter } from './counter.js';
import { startInput } from './input.js';
import type { LoopLag } from './loop-lag.js';
import type { ModeEnv, ModeRunner } from './mode.js';
import { startOutput, type OutputRunner } from './output.js';
import { gpioClaim, gpioDeviceSchema, gpioPointConfigs, gpioSettings, type GpioDeviceConfig, type GpioSettings, checkGpioDevice } from './schema.js';

export class GpioDriver implements Driver {
  readonly actions: Readonly<Record<string, DriverAction>>;
  private readonly settings: GpioSettings;
  private readonly where: string;
  private line: GpioLine | undefined;
  private runner: ModeRunner | undefined;
  private stopRequested = false;
  private stopChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: GpioDeviceConfig,
    /** Called in start(), not here: creating a driver does no I/O (docs/architecture.md#the-driver-contract). */
    private readonly portFactory: () => GpioPort = () => (config.backend === 'gpiomon' ? new GpiomonGpioPort() : createGpioPort()),
    /** Replaces the counter's event-loop stall monitor (tests of other behaviour). */
    private readonly loopLag?: (resolutionMs: number) => LoopLag,
  ) {
    this.settings = gpioSettings(config);
    this.where = `gpio device "${config.id}" (${lineName(this.settings.pin)})`;
    this.actions = config.mode === 'output' ? { gpio_set: (args) => this.set(args) } : {};
  }

  async start(ctx: DriverContext): Promise<void> {
    this.stopRequested = false;
    const s = this.settings;
    const line = await this.portFactory()
      .open(
        s.pin,
        this.config.mode === 'output'
          ? { direction: 'out', initial: s.initial, activeLow: s.activeLow }
          : // both edges: the debouncer needs every transition to know when a level has settled
            { direction: 'in', edge: 'both', activeLow: s.activeLow },
      )
      .catch((err: unknown) => {
        throw new Error(`${this.where}: ${describeError(err)}`, { cause: err });
      });
    this.line = line;
    // stop() may have been called while the line was opening: do not leave it running
    if (this.stopRequested) return this.stop();
    const env: ModeEnv = { ctx, line, settings: s, where: this.where, loopLag: this.loopLag };
    const startMode = { input: startInput, counter: startCounter, output: startOutput }[this.config.mode];
    try {
      this.runner = await startMode(env);
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (this.stopRequested) return this.stop();
  }

  /** The `gpio_set` action: `{ value: 0 | 1 | true | false | "on" | "off" }`. */
  private async set(args: Record<string, unknown>): Promise<{ pin: number; value: 0 | 1 } | { chip: string; line: number; value: 0 | 1 }> {
    const value = toLevel(args.value);
    if (value === undefined) {
      throw new Error(`${this.where}: gpio_set needs value 0 or 1 (or true/false, "on"/"off"), got ${JSON.stringify(args.value)}`);
    }
    const runner = this.runner as OutputRunner | undefined;
    if (!runner || this.stopRequested) throw new Error(`${this.where}: not running; not set`);
    const value_ = await runner.set(value);
    const pin = this.settings.pin;
    return typeof pin === 'number' ? { pin, value: value_ } : { chip: pin.chip, line: pin.line, value: value_ };
  }

  /**
   * Idempotent; each call also releases whatever a start still in progress has opened
   * since the previous call (start() calls it again when it notices the request).
   */
  stop(): Promise<void> {
    this.stopRequested = true;
    this.stopChain = this.stopChain.then(() => this.release());
    return this.stopChain;
  }

  private async release(): Promise<void> {
    const runner = this.runner;
    const line = this.line;
    this.runner = undefined;
    this.line = undefined;
    try {
      await runner?.stop();
    } finally {
      await line?.close();
    }
  }
}

export const gpioDriver: DriverDefinition<GpioDeviceConfig> = {
  name: 'gpio',
  description: 'A GPIO line (a Raspberry Pi BCM pin, or chip and line on any board): switch input, pulse counter (rain gauge, traffic loop) or relay output.',
  schema: gpioDeviceSchema,
  create: (config) => new GpioDriver(config),
  claims: (config) => [gpioClaim(config)],
  check: checkGpioDevice,
  pointConfigs: gpioPointConfigs,
};

/**
 * The driver contract. A driver owns one configured device: it talks to hardware (or
 * simulates it) and emits samples; everything after that (scaling, deadband, stamping,
 * durability, delivery) belongs to the pipeline, the buffer and the uplink.
 *
 * Lifecycle (docs/architecture.md#the-driver-contract):
 * - `create(config, env)` builds the driver from *validated* config. No I/O, no timers.
 * - `start(ctx)` opens ports and begins polling. It resolves once the driver is running;
 *   it rejects if it cannot start at all (the supervisor retries with backoff).
 * - While running, a driver never throws out of a timer or callback. Recoverable faults
 *   (a timeout, a bad frame) go to `ctx.health.error()` and the driver carries on.
 *   A fault it cannot recover from in place (port vanished and reopen keeps failing,
 *   library wedged) goes to `ctx.fail(err)`: the supervisor then stops the driver and
 *   starts a fresh one after a backoff. The driver owns retries *within* a run; the
 *   supervisor owns restarts *across* runs.
 * - `stop()` releases everything (timers, ports, listeners) and resolves when done. It
 *   must be safe to call after a failed or partial start, and more than once.
 *   `ctx.signal` aborts when the driver is being stopped; long waits should honour it.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from './clock.js';
import type { Sample } from './reading.js';
import type { DeviceHealthReporter } from './health-reporter.js';
import type { SharedResources } from './resources.js';
import type { StateStore } from './state-store.js';
import type { PointSettings } from './point-settings.js';

export interface DriverContext {
  /** The device id this driver serves. */
  readonly device: string;
  /** Hand samples to the pipeline. Synchronous and cheap; never throws. */
  emit(samples: Sample | readonly Sample[]): void;
  readonly health: DeviceHealthReporter;
  readonly log: Logger;
  readonly clock: Clock;
  /** Aborted when the driver is being stopped. */
  readonly signal: AbortSignal;
  /** Unrecoverable fault: the supervisor restarts this driver with backoff. */
  fail(err: unknown): void;
  /** Hardware shared between devices (a Modbus bus, a serial port), ref-counted. */
  readonly resources: SharedResources;
  /** Small durable key/value state (e.g. a pulse counter's running total). */
  readonly state: StateStore;
}

/** A named operation the downlink may call on a device (allow-listed in config). */
export type DriverAction = (args: Record<string, unknown>) => Promise<unknown>;

export interface Driver {
  start(ctx: DriverContext): Promise<void>;
  stop(): Promise<void>;
  /** Operations exposed to downlink commands, e.g. `modbus_write`, `gpio_set`. */
  readonly actions?: Readonly<Record<string, DriverAction>>;
}

/** The device config every driver's schema produces at least. */
export interface BaseDeviceConfig {
  id: string;
  driver: string;
  points?: readonly { name: string }[];
}

/** What `create` may look at besides its own device config. */
export interface CreateEnv {
  /** All configured buses, by name (validated; drivers pick the one they need). */
  buses: Readonly<Record<string, { type: string } & Record<string, unknown>>>;
  /** For config checks: every device that passed the schema (e.g. to sum a bus's load). */
  devices?: readonly BaseDeviceConfig[];
}

/**
 * One entry in the driver registry: a folder under src/drivers/ exports one of these.
 * `schema` is a zod object whose `driver` key is a literal of `name`.
 */
export interface DriverDefinition<C extends BaseDeviceConfig = BaseDeviceConfig> {
  readonly name: string;
  /** One-line description for `citygate schema` and docs. */
  readonly description: string;
  readonly schema: z.ZodType<C>;
  create(config: C, env: CreateEnv): Driver;
  /**
   * Exclusive hardware the device claims, as strings like `serial:/dev/ttyUSB0` or
   * `gpio:17`. Config validation rejects two devices claiming the same thing.
   */
  claims?(config: C, env?: CreateEnv): string[];
  /**
   * The pipeline settings (unit, scale, deadband …) of each point the device emits,
   * when they are not simply `config.points` (e.g. generated or fixed point sets).
   */
  pointConfigs?(config: C): PointSettings[];
  /**
   * What the driver will do with this whole (validated) config, for
   * `citygate validate --explain` (e.g. Modbus requests per poll). Pure.
   */
  explain?(config: { buses: Record<string, unknown>; devices: readonly unknown[] }): string;
  /** Names of the buses this device uses (checked to exist, and of the right type). */
  buses?(config: C): { name: string; types: readonly string[] }[];
  /**
   * Rules the schema alone cannot say (they need the bus, or they are likely mistakes
   * rather than certain ones): errors, and warnings that `validate --strict` turns into
   * errors. Paths are relative to the device. Pure.
   */
  check?(config: C, env: CreateEnv): ConfigNote[];
}

/** A finding of a driver's or bus's `check`: what is wrong (or suspicious) and where. */
export interface ConfigNote {
  path: PropertyKey[];
  message: string;
  severity: 'error' | 'warning';
}

/** A bus type (e.g. modbus-rtu): its config schema, keyed by `type`. */
export interface BusDefinition {
  readonly type: string;
  readonly description: string;
  readonly schema: z.ZodType<{ type: string }>;
  claims?(config: { type: string } & Record<string, unknown>): string[];
  /** As DriverDefinition.check, for the bus's own settings. */
  check?(config: { type: string } & Record<string, unknown>): ConfigNote[];
}

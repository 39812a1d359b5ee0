/**
 * modbus — Modbus RTU and TCP devices (energy meters, PLCs, weather stations).
 *
 * This folder owns: the config schema of `modbus-rtu` / `modbus-tcp` buses and
 * `modbus` devices (schema.ts); pure codecs for registers (codec.ts), PDUs (pdu.ts)
 * and frames (rtu-frame.ts, tcp-frame.ts); request planning (plan.ts); the shared bus
 * with its queue, timeouts, resync and reconnects (bus.ts over link.ts adapters);
 * per-device polling with backoff (poller.ts); the `modbus_write` action (write.ts);
 * in-process slaves for tests and the benchmark (server/); and
 * `explainModbusPlan` (explain.ts). README.md is the integrator's guide.
 *
 * Devices on one bus share one ModbusBus through ctx.resources under
 * `modbus-bus:<bus>`; the runtime publishes its `snapshot()` under health.buses.<bus>.
 */
import type { Driver, DriverContext, DriverDefinition, CreateEnv } from '../../core/driver.js';
import { ModbusBus } from './bus.js';
import { devicePlan, effectiveUnit } from './device-plan.js';
import { busKey, openBus } from './open-bus.js';
import { DevicePoller } from './poller.js';
import type { PointSpec } from './points.js';
import { modbusDeviceSchema, type ModbusBusConfig, type ModbusDeviceConfig } from './schema.js';
import { modbusWrite } from './write.js';
import { explainModbusPlan } from './explain.js';
import { checkModbusDevice, modbusClaims } from './config-check.js';

export class ModbusDriver implements Driver {
  private bus: ModbusBus | undefined;
  private poller: DevicePoller | undefined;
  private ctx: DriverContext | undefined;
  private readonly unit: number;
  private readonly points: Map<string, PointSpec>;
  readonly actions;

  constructor(
    private readonly config: ModbusDeviceConfig,
    private readonly busConfig: ModbusBusConfig,
  ) {
    this.unit = effectiveUnit(config, busConfig);
    if (busConfig.type === 'modbus-rtu' && (this.unit < 1 || this.unit > 247)) {
      throw new Error(`device ${config.id}: unit ${this.unit} is not a valid RTU slave address (1-247) on bus ${config.bus}`);
    }
    this.points = new Map(devicePlan(config).specs.map((s) => [s.name, s]));
    this.actions = { modbus_write: (args: Record<string, unknown>) => this.write(args) };
  }

  async start(ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    const key = busKey(this.config.bus);
    this.bus = ctx.resources.acquire(key, () => openBus(this.config.bus, this.busConfig, ctx.clock));
    this.poller = new DevicePoller(devicePlan(this.config).groups, {
      device: this.config.id,
      busName: this.config.bus,
      unit: this.unit,
      bus: this.bus,
      clock: ctx.clock,
      health: ctx.health,
      log: ctx.log,
      emit: (s) => ctx.emit(s),
      backoffMax: this.config.backoff_max,
      signal: ctx.signal,
      ...(this.config.timeout !== undefined ? { timeoutMs: this.config.timeout } : {}),
    });
    this.poller.start();
  }

  /** The live plan (after any splits forced by the slave), for tests and diagnostics. */
  plan() {
    return this.poller?.plan() ?? devicePlan(this.config).groups;
  }

  private write(args: Record<string, unknown>) {
    if (!this.bus) return Promise.reject(new Error(`modbus_write on ${this.config.id}: the device is not running`));
    return modbusWrite(args, {
      device: this.config.id,
      busName: this.config.bus,
      unit: this.unit,
      bus: this.bus,
      points: this.points,
      ...(this.config.timeout !== undefined ? { timeoutMs: this.config.timeout } : {}),
    });
  }

  async stop(): Promise<void> {
    this.poller?.stop();
    this.poller = undefined;
    if (this.bus && this.ctx) {
      this.bus = undefined;
      await this.ctx.resources.release(busKey(this.config.bus));
    }
  }
}

function busOf(config: ModbusDeviceConfig, env: CreateEnv): ModbusBusConfig {
  const bus = env.buses[config.bus];
  if (!bus || (bus.type !== 'modbus-rtu' && bus.type !== 'modbus-tcp')) {
    throw new Error(`device ${config.id}: bus "${config.bus}" is not a modbus-rtu or modbus-tcp bus`);
  }
  return bus as unknown as ModbusBusConfig;
}

export const modbusDriver: DriverDefinition<ModbusDeviceConfig> = {
  name: 'modbus',
  description: 'Modbus RTU/TCP slave: coils, discretes, input and holding registers, planned reads, modbus_write.',
  schema: modbusDeviceSchema,
  create: (config, env) => new ModbusDriver(config, busOf(config, env)),
  claims: modbusClaims,
  check: checkModbusDevice,
  buses: (config) => [{ name: config.bus, types: ['modbus-rtu', 'modbus-tcp'] }],
  explain: (config) => explainModbusPlan(config),
};

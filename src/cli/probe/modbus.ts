/**
 * `citygate probe modbus scan|read`: on-site Modbus checks for technicians, over a
 * serial port (RTU) or TCP. Uses the same bus layer as the gateway, so what the probe
 * sees is what the gateway will see. Mistakes in arguments are UserErrors (exit 1,
 * no stack trace); a port that cannot be opened says what to check (exit 2).
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { UserError, describeError } from '../../core/errors.js';
import { parseDuration } from '../../config/units.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import { EXCEPTION_NAMES, ModbusExceptionError } from '../../drivers/modbus/errors.js';
import { decodeAs, interpretBits, interpretRegisters } from '../../drivers/modbus/interpret.js';
import { DATA_TYPES, ORDER_ALIASES, type DataType } from '../../drivers/modbus/codec.js';
import { openBus } from '../../drivers/modbus/open-bus.js';
import { READ_LIMIT, TABLES, type Table } from '../../drivers/modbus/pdu.js';
import { parseUnits, scanUnits } from '../../drivers/modbus/scan.js';
import { rtuBusSchema, tcpBusSchema } from '../../drivers/modbus/schema.js';

export interface LinkOptions {
  port?: string;
  baud?: string;
  parity?: string;
  dataBits?: string;
  stopBits?: string;
  host?: string;
  portTcp?: string;
  timeout?: string;
}

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UserError(`--${name} expects a whole number, got "${v}"`);
  return Number(v);
};

/** Build a bus from CLI options; throws UserError for anything a person mistyped. */
export function busFromOptions(o: LinkOptions, defaultTimeout: string): { bus: ModbusBus; kind: 'rtu' | 'tcp'; where: string; timeoutMs: number } {
  if (!o.port === !o.host) throw new UserError('give either --port /dev/ttyUSB0 (Modbus RTU) or --host 10.0.0.5 (Modbus TCP)');
  const timeout = o.timeout ?? defaultTimeout;
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === undefined) throw new UserError(`--timeout expects a duration like "200ms", got "${timeout}"`);
  const raw = o.port
    ? { type: 'modbus-rtu', port: o.port, baud: int('baud', o.baud) ?? 9600, parity: o.parity ?? 'none', data_bits: int('data-bits', o.dataBits) ?? 8, stop_bits: int('stop-bits', o.stopBits) ?? 1, timeout, retries: 0 }
    : { type: 'modbus-tcp', host: o.host, port: int('port-tcp', o.portTcp) ?? 502, timeout, retries: 0 };
  const parsed = o.port ? rtuBusSchema.safeParse(raw) : tcpBusSchema.safeParse(raw);
  if (!parsed.success) {
    const names: Record<string, string> = { data_bits: 'data-bits', stop_bits: 'stop-bits', port: o.port ? 'port' : 'port-tcp' };
    throw new UserError('invalid bus settings', parsed.error.issues.map((i) => `  --${names[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`));
  }
  const cfg = parsed.data;
  const where = cfg.type === 'modbus-rtu' ? `${cfg.port} (${cfg.baud} ${cfg.data_bits}${cfg.parity[0]?.toUpperCase()}${cfg.stop_bits})` : `${cfg.host}:${cfg.port}`;
  return { bus: openBus('probe', cfg, systemClock), kind: cfg.type === 'modbus-rtu' ? 'rtu' : 'tcp', where, timeoutMs };
}

function table(v: string | undefined): Table {
  const t = v ?? 'holding';
  if (!(TABLES as readonly string[]).includes(t)) throw new UserError(`--table must be one of ${TABLES.join(', ')}, got "${t}"`);
  return t as Table;
}

function progressBar(done: number, total: number, unit: number, found: number, started: number): string {
  const width = 24;
  const filled = Math.round((done / Math.max(1, total)) * width);
  const elapsed = (Date.now() - started) / 1000;
  const left = done > 0 ? Math.ceil((elapsed / done) * (total - done)) : undefined;
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} · unit ${unit} · ${found} found${left !== undefined ? ` · ~${left}s left` : ''}  `;
}

export async function runScan(o: LinkOptions & { units?: string; table?: string; address?: string }, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const t = table(o.table);
  const address = int('address', o.address) ?? 0;
  const { bus, kind, where, timeoutMs } = busFromOptions(o, '200ms');
  let units: number[];
  try {
    units = parseUnits(o.units ?? (kind === 'rtu' ? '1-247' : '0-255'), kind === 'rtu' ? 247 : 255);
  } catch (e) {
    await bus.close();
    throw new UserError(`--units: ${describeError(e)}`);
  }
  const started = Date.now();
  const tty = Boolean(err.isTTY);
  err.write(`scanning ${units.length} unit ids on ${where}, reading ${t} ${address}; at most ~${Math.ceil((units.length * timeoutMs) / 1000)}s\n`);
  try {
    const results = await scanUnits(bus, units, {
      table: t,
      address,
      timeoutMs,
      onProgress: tty ? (done, total, unit, found) => err.write(progressBar(done, total, unit, found, started)) : undefined,
    });
    if (tty) err.write('\n');
    const seen = results.filter((r) => r.status !== 'silent');
    for (const r of seen) out.write(`unit ${String(r.unit).padStart(3)}  ${r.detail}${r.latencyMs !== undefined ? `  (${r.latencyMs}ms)` : ''}\n`);
    const present = seen.filter((r) => r.status === 'answers' || r.status === 'exception').map((r) => r.unit);
    if (present.length === 0) {
      out.write(`no unit answered on ${where} in ${((Date.now() - started) / 1000).toFixed(1)}s — check A/B wiring (try swapping), baud rate and parity (try --parity even), and termination\n`);
      return 2;
    }
    out.write(`${present.length} device${present.length === 1 ? '' : 's'} answer on ${where}: ${present.join(', ')}\n`);
    return 0;
  } finally {
    await bus.close();
  }
}

export interface ReadOptions extends LinkOptions {
  unit?: string;
  table?: string;
  address?: string;
  count?: string;
  type?: string;
  order?: string;
  length?: string;
}

export async function runRead(o: ReadOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const t = table(o.table);
  if (o.type !== undefined && !(DATA_TYPES as readonly string[]).includes(o.type)) throw new UserError(`--type must be one of ${DATA_TYPES.join(', ')}, got "${o.type}"`);
  const order = ORDER_ALIASES[o.order ?? 'ABCD'];
  if (!order) throw new UserError(`--order must be one of ${Object.keys(ORDER_ALIASES).join(', ')}, got "${o.order}"`);
  const strLen = int('length', o.length) ?? 1;
  const unit = int('unit', o.unit) ?? 1;
  const address = int('address', o.address);
  if (address === undefined || address > 65_535) throw new UserError('--address is required: the protocol (0-based) address, 0-65535 (manual 30001 = input 0, 40001 = holding 0)');
  const count = int('count', o.count) ?? (t === 'coil' || t === 'discrete' ? 8 : 2);
  if (count < 1 || count > READ_LIMIT[t]) throw new UserError(`--count must be 1-${READ_LIMIT[t]} for ${t}, got ${count}`);
  const { bus, where } = busFromOptions(o, '1s');
  try {
    const r = await bus.request({ unit, request: { kind: 'read', table: t, address, count } });
    out.write(`unit ${unit} on ${where}: ${t} ${address}-${address + count - 1}, ${Math.round(r.latencyMs)}ms\n\n`);
    if (t === 'coil' || t === 'discrete') out.write(interpretBits(t, address, r.data as boolean[]));
    else if (o.type) out.write(decodeAs(address, r.data as number[], o.type as DataType, order, strLen));
    else out.write(interpretRegisters(t, address, r.data as number[]));
    return 0;
  } catch (e) {
    if (e instanceof ModbusExceptionError) {
      out.write(`unit ${unit} on ${where} answered exception ${e.code} (${EXCEPTION_NAMES[e.code] ?? 'unknown'}) for ${t} ${address}-${address + count - 1} — the device is there; check the address (0-based?) and table\n`);
      return 2;
    }
    throw e;
  } finally {
    await bus.close();
  }
}

function linkOptions(cmd: Command): Command {
  return cmd
    .option('--port <path>', 'serial port for Modbus RTU, e.g. /dev/ttyUSB0')
    .option('--baud <n>', 'RTU baud rate', '9600')
    .option('--parity <p>', 'RTU parity: none, even, odd', 'none')
    .option('--data-bits <n>', 'RTU data bits: 7 or 8', '8')
    .option('--stop-bits <n>', 'RTU stop bits: 1 or 2', '1')
    .option('--host <host>', 'Modbus TCP host (PLC or gateway)')
    .option('--port-tcp <n>', 'Modbus TCP port', '502')
    .option('--timeout <duration>', 'wait this long for each answer');
}

export function registerModbusProbe(probe: Command): void {
  const modbus = probe.command('modbus').description('Modbus RTU/TCP: find slaves, read registers in every interpretation');
  linkOptions(modbus.command('scan').description('which unit ids answer on a bus (progress and time estimate on a terminal)'))
    .option('--units <list>', 'unit ids to try, e.g. 1-247 or 1,2,10-20 (default: all)')
    .option('--table <table>', 'table to read from each unit: coil, discrete, input, holding', 'holding')
    .option('--address <n>', 'address to read from each unit', '0')
    .action(async (opts: LinkOptions & { units?: string; table?: string; address?: string }) => {
      process.exitCode = await runScan(opts);
    });
  linkOptions(modbus.command('read').description('read a range and print every type × byte/word order side by side'))
    .option('--unit <n>', 'unit id (slave address)', '1')
    .option('--table <table>', 'coil, discrete, input or holding', 'holding')
    .option('--address <n>', 'protocol (0-based) address of the first item')
    .option('--count <n>', 'number of registers or bits to read')
    .option('--type <type>', 'decode as this type only (bool, int16 … float64, string); default: every interpretation')
    .option('--order <order>', 'with --type: ABCD, CDAB, BADC, DCBA (or big, little, word_swap, byte_swap)', 'ABCD')
    .option('--length <n>', 'with --type string: registers per string')
    .action(async (opts: ReadOptions) => {
      process.exitCode = await runRead(opts);
    });
}

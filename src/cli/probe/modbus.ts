/**
 * `citygate probe modbus scan|read`: on-site Modbus checks for technicians, over a
 * serial port (RTU) or TCP. Uses the same bus layer as the gateway, so what the probe
 * sees is what the gateway will see. Mistakes in arguments are UserErrors (exit 1,
 * no stack trace); a port that cannot be opened says what to check (exit 2).
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { UserError, describeError } from '../../core/errors.js';
import { parseDuration } from '../../core/units.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import { EXCEPTION_NAMES, ModbusExceptionError, ModbusLinkError, ModbusTimeoutError } from '../../drivers/modbus/errors.js';
import { decodeAs, interpretBits, interpretRegisters } from '../../drivers/modbus/interpret.js';
import { DATA_TYPES, ORDER_ALIASES, registerCount, type DataType } from '../../drivers/modbus/codec.js';
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

/**
 * Build a bus from CLI options; throws UserError for anything a person mistyped.
 * TCP takes `--host H` with `--port N` (as the config writes host + port), `--port-tcp N`,
 * or `--host H:N`; RTU takes `--port /dev/…`.
 */
export function busFromOptions(o: LinkOptions, defaultTimeout: string): { bus: ModbusBus; kind: 'rtu' | 'tcp'; where: string; timeoutMs: number } {
  let host = o.host;
  let tcpPort = o.portTcp;
  let serial = o.port;
  if (host !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
    if (m) {
      if (tcpPort !== undefined && tcpPort !== m[2]) throw new UserError(`--host ${host} already has a port; drop --port-tcp ${tcpPort}`);
      host = m[1] as string;
      tcpPort = m[2];
    }
    if (serial !== undefined) {
      if (!/^\d+$/.test(serial)) throw new UserError(`give either --port ${serial} (Modbus RTU) or --host ${host} (Modbus TCP), not both`);
      tcpPort = serial; // --host H --port N: N is the TCP port, as host + port in the config
      serial = undefined;
    }
  }
  if (!serial === !host) throw new UserError('give either --port /dev/ttyUSB0 (Modbus RTU) or --host 10.0.0.5 [--port 502] (Modbus TCP)');
  const timeout = o.timeout ?? defaultTimeout;
  const timeoutMs = parseDuration(timeout);
  if (timeoutMs === undefined) throw new UserError(`--timeout expects a duration like "200ms" (units ms, s, m), got "${timeout}"`);
  const raw = serial
    ? { type: 'modbus-rtu', port: serial, baud: int('baud', o.baud) ?? 9600, parity: o.parity ?? 'none', data_bits: int('data-bits', o.dataBits) ?? 8, stop_bits: int('stop-bits', o.stopBits) ?? 1, timeout, retries: 0 }
    : { type: 'modbus-tcp', host, port: int('port', tcpPort) ?? 502, timeout, retries: 0 };
  const parsed = serial ? rtuBusSchema.safeParse(raw) : tcpBusSchema.safeParse(raw);
  if (!parsed.success) {
    const names: Record<string, string> = { data_bits: 'data-bits', stop_bits: 'stop-bits', port: 'port' };
    throw new UserError('invalid bus settings', parsed.error.issues.map((i) => `  --${names[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`));
  }
  const cfg = parsed.data;
  const where = cfg.type === 'modbus-rtu' ? `${cfg.port} (${cfg.baud} ${cfg.data_bits}${cfg.parity[0]?.toUpperCase()}${cfg.stop_bits})` : `${cfg.host}:${cfg.port}`;
  const name = cfg.type === 'modbus-rtu' ? cfg.port : `${cfg.host}:${cfg.port}`;
  return { bus: openBus(name, cfg, systemClock), kind: cfg.type === 'modbus-rtu' ? 'rtu' : 'tcp', where, timeoutMs };
}

/** What to check when nothing answers: wiring on RS-485, addressing on TCP. */
export function silenceAdvice(kind: 'rtu' | 'tcp'): string {
  return kind === 'rtu'
    ? 'check A/B wiring (try swapping), baud rate and parity (try --parity even), and termination'
    : 'check that the PLC or gateway has Modbus TCP enabled on this port, the unit id (many answer only 1 or 255), and any firewall between';
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

/**
 * Scan unit ids one at a time, printing each that answers as it is found, and a summary
 * however the scan ends: done, the adapter lost (exit 2), or Ctrl-C (exit 130).
 */
export async function runScan(
  o: LinkOptions & { units?: string; table?: string; address?: string },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WriteStream = process.stderr,
  interrupt: AbortSignal = sigintSignal(),
): Promise<number> {
  const t = table(o.table);
  const address = int('address', o.address) ?? 0;
  if (address > 65_535) throw new UserError(`--address must be 0-65535, got ${address}`);
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
  const present: number[] = [];
  let ended: 'done' | 'lost' | 'interrupted' = 'done';
  let lostWhy = '';
  try {
    for (const [i, unit] of units.entries()) {
      if (interrupt.aborted) {
        ended = 'interrupted';
        break;
      }
      if (tty) err.write(progressBar(i, units.length, unit, present.length, started));
      let results;
      try {
        results = await guarded(scanUnits(bus, [unit], { table: t, address, timeoutMs }), timeoutMs * 3 + 2000, interrupt);
      } catch (e) {
        if (interrupt.aborted) {
          ended = 'interrupted';
          break;
        }
        if (i === 0) throw e; // never opened: the bus layer's error says what to check
        ended = 'lost';
        lostWhy = describeError(e);
        break;
      }
      for (const r of results.filter((x) => x.status !== 'silent')) {
        if (tty) err.write('\r\x1b[K');
        out.write(`unit ${String(r.unit).padStart(3)}  ${r.detail}${r.latencyMs !== undefined ? `  (${r.latencyMs}ms)` : ''}\n`);
        if (r.status === 'answers' || r.status === 'exception') present.push(r.unit);
      }
    }
    if (tty) err.write('\r\x1b[K');
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const found = present.length ? `${present.length} device${present.length === 1 ? ' answers' : 's answer'} on ${where}: ${present.join(', ')}` : `no unit answered on ${where}`;
    if (ended === 'lost') {
      out.write(`scan stopped after ${secs}s: the ${kind === 'rtu' ? 'serial adapter' : 'connection'} was lost (${lostWhy}) — ${kind === 'rtu' ? 'is the USB adapter still plugged in?' : 'is the host still reachable?'}\n${found} (so far)\n`);
      return 2;
    }
    if (ended === 'interrupted') {
      out.write(`scan interrupted after ${secs}s\n${found} (so far)\n`);
      return 130;
    }
    if (present.length === 0) {
      out.write(`${found} in ${secs}s — ${silenceAdvice(kind)}\n`);
      return 2;
    }
    out.write(`${found}\n`);
    return 0;
  } finally {
    await bus.close().catch(() => undefined);
  }
}

/** Aborts on Ctrl-C while a command runs (the default SIGINT would lose what was found). */
function sigintSignal(): AbortSignal {
  const ac = new AbortController();
  const onInt = (): void => ac.abort();
  process.once('SIGINT', onInt);
  ac.signal.addEventListener('abort', () => process.removeListener('SIGINT', onInt));
  return ac.signal;
}

/**
 * A request that neither settles nor times out (a port that vanished mid-request) must
 * not leave the process with nothing to wait for: a ref'd timer bounds it.
 */
function guarded<T>(p: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer and no error within ${ms}ms`)), ms);
    const onAbort = (): void => reject(new Error('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
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
  if (unit > 255) throw new UserError(`--unit must be 0-255 (RTU slaves: 1-247), got ${unit}`);
  const address = int('address', o.address);
  if (address === undefined) throw new UserError('--address is required: the protocol (0-based) address, 0-65535 (manual 30001 = input 0, 40001 = holding 0)');
  if (address > 65_535) throw new UserError(`--address must be 0-65535, got ${address} (manual 30001 = input 0, 40001 = holding 0)`);
  const needed = o.type && t !== 'coil' && t !== 'discrete' ? registerCount(o.type as DataType, strLen) : 1;
  const count = int('count', o.count) ?? (t === 'coil' || t === 'discrete' ? 8 : Math.max(2, needed));
  if (count < 1 || count > READ_LIMIT[t]) throw new UserError(`--count must be 1-${READ_LIMIT[t]} for ${t}, got ${count}`);
  if (count < needed) throw new UserError(`--type ${o.type} needs ${needed} registers: use --count ${needed} (or more, for several values)`);
  if (address + count - 1 > 65_535) throw new UserError(`--address ${address} with --count ${count} runs past the last address (65535)`);
  const { bus, kind, where } = busFromOptions(o, '1s');
  if (kind === 'rtu' && unit === 0) {
    await bus.close();
    throw new UserError('--unit 0 is the RTU broadcast address: slaves never answer it — use the address set on the meter (1-247)');
  }
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
    if (e instanceof ModbusTimeoutError) {
      out.write(`unit ${unit} on ${where} did not answer — check the unit id, then ${silenceAdvice(kind)}\n`);
      return 2;
    }
    if (e instanceof ModbusLinkError) {
      out.write(`cannot reach ${where}: ${describeError(e)}\n`);
      return 2;
    }
    throw e;
  } finally {
    await bus.close().catch(() => undefined);
  }
}

function linkOptions(cmd: Command): Command {
  return cmd
    .option('--port <path>', 'serial port for Modbus RTU, e.g. /dev/ttyUSB0; with --host, the TCP port')
    .option('--baud <n>', 'RTU baud rate', '9600')
    .option('--parity <p>', 'RTU parity: none, even, odd', 'none')
    .option('--data-bits <n>', 'RTU data bits: 7 or 8', '8')
    .option('--stop-bits <n>', 'RTU stop bits: 1 or 2', '1')
    .option('--host <host>', 'Modbus TCP host (PLC or gateway)')
    .option('--port-tcp <n>', 'Modbus TCP port (or --host H --port N, or --host H:N)')
    .option('--timeout <duration>', 'wait this long for each answer');
}

export function registerModbusProbe(probe: Command): void {
  const modbus = probe.command('modbus').description('Modbus RTU/TCP: find slaves, read registers in every interpretation');
  linkOptions(modbus.command('scan').description('which unit ids answer on a bus, printed as found; Ctrl-C prints what was found and exits 130'))
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

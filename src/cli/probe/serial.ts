/**
 * `citygate probe serial`: sniff a serial port on site. With `--protocol` it decodes
 * frames live with the gateway's own decoders (what the probe shows is what the gateway
 * will read) and ends with the decoder counters; without, it prints a hexdump. `--list`
 * shows the ports and their stable /dev/serial/by-id/ links.
 *
 * Bounded for scripts and tests: `--count N` stops after N frames (or N hexdump lines),
 * `--duration` after that long; Ctrl-C stops too. Exit codes: 0 done; 1 a mistake in the
 * arguments or a port that cannot be opened (wrong path, permissions: the message says
 * what to do); 2 `--count` not reached in time, or the port was lost mid-probe.
 */
import type { Command } from 'commander';
import { UserError, describeError } from '../../core/errors.js';
import { formatDuration, parseDuration } from '../../core/units.js';
import { NodeSerialPorts } from '../../ports/serial/node-serialport.js';
import { SerialOpenError } from '../../ports/serial/open-errors.js';
import type { SerialConnection, SerialPorts, SerialSettings } from '../../ports/serial/port.js';
import { PROTOCOLS, type ProtocolName } from '../../drivers/serial/points.js';
import { createProtocol } from '../../drivers/serial/protocols/index.js';
import { Hexdump, formatFrame } from '../../drivers/serial/probe-format.js';
import { serialDeviceSchema } from '../../drivers/serial/schema.js';
import { onStdoutClosed } from '../closed-stdout.js';

export interface SerialProbeOptions {
  port?: string;
  baud?: string;
  dataBits?: string;
  parity?: string;
  stopBits?: string;
  protocol?: string;
  regex?: string;
  columns?: string;
  separator?: string;
  count?: string;
  duration?: string;
  list?: boolean;
}

interface Streams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Validates the options through the driver's own schema, so the rules are the same as in config. */
export function probeSettings(o: SerialProbeOptions): { settings: SerialSettings; protocol?: ProtocolName; lines: Record<string, unknown> } {
  if (!o.port) throw new UserError('give --port PATH (e.g. /dev/ttyUSB0 or /dev/serial/by-id/…), or --list to see the ports');
  if (o.protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(o.protocol)) {
    throw new UserError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got "${o.protocol}" (leave it out for a hexdump)`);
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(v)) throw new UserError(`--${name} expects a number, got "${v}"`);
    return Number(v);
  };
  const columns = o.columns?.split(',').map((c) => (c === '' || c === '-' ? null : c.trim()));
  const raw: Record<string, unknown> = {
    id: 'probe',
    driver: 'serial',
    port: o.port,
    protocol: o.protocol ?? 'lines',
    baud: num('baud', o.baud),
    data_bits: num('data-bits', o.dataBits),
    parity: o.parity,
    stop_bits: num('stop-bits', o.stopBits),
    regex: o.regex,
    columns,
    separator: o.separator,
  };
  if (o.protocol === undefined) Object.assign(raw, { regex: undefined, columns: ['raw'] }); // hexdump: only the port settings matter
  if (o.protocol === 'lines' && !o.regex && !columns) raw.regex = '^(?<line>.*)$'; // print each line as text
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  const r = serialDeviceSchema.safeParse(raw);
  if (!r.success) {
    const flag: Record<string, string> = { data_bits: 'data-bits', stop_bits: 'stop-bits' };
    throw new UserError('invalid serial settings', r.error.issues.map((i) => `  --${flag[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`));
  }
  const c = r.data;
  return {
    settings: { path: c.port, baudRate: c.baud, dataBits: c.data_bits, parity: c.parity, stopBits: c.stop_bits },
    ...(o.protocol ? { protocol: o.protocol as ProtocolName } : {}),
    lines: { regex: c.regex, columns: c.columns, separator: c.separator },
  };
}

function bounds(o: SerialProbeOptions): { count?: number; durationMs?: number } {
  const b: { count?: number; durationMs?: number } = {};
  if (o.count !== undefined) {
    if (!/^[1-9]\d*$/.test(o.count)) throw new UserError(`--count expects a whole number above 0, got "${o.count}"`);
    b.count = Number(o.count);
  }
  if (o.duration !== undefined) {
    const ms = parseDuration(o.duration);
    if (ms === undefined || ms <= 0) throw new UserError(`--duration expects a duration like "10s", got "${o.duration}"`);
    b.durationMs = ms;
  }
  return b;
}

export async function runSerialList(s: Streams = { out: process.stdout, err: process.stderr }, ports: SerialPorts = new NodeSerialPorts()): Promise<number> {
  const { ports: list, warning } = await ports.list();
  if (warning) s.err.write(`note: ${warning}\n`);
  if (list.length === 0) s.out.write('no serial ports found — is the adapter plugged in? (dmesg | tail shows what the kernel saw)\n');
  for (const p of list) {
    const about = [p.manufacturer, p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : undefined, p.serialNumber && `serial ${p.serialNumber}`]
      .filter(Boolean)
      .join(', ');
    s.out.write(`${p.path}${about ? `  (${about})` : ''}\n`);
    for (const id of p.byId ?? []) s.out.write(`    ${id}   ← use this path in config\n`);
  }
  return 0;
}

export async function runSerialProbe(
  o: SerialProbeOptions,
  s: Streams = { out: process.stdout, err: process.stderr },
  ports: SerialPorts = new NodeSerialPorts(),
): Promise<number> {
  if (o.list) return runSerialList(s, ports);
  const { settings, protocol, lines } = probeSettings(o);
  const { count, durationMs } = bounds(o);
  let conn: SerialConnection;
  try {
    conn = await ports.open(settings);
  } catch (e) {
    if (e instanceof SerialOpenError) throw new UserError(e.message);
    throw e;
  }
  const frame = `${settings.baudRate} ${settings.dataBits}${settings.parity[0]?.toUpperCase()}${settings.stopBits}`;
  s.err.write(
    `listening on ${settings.path} at ${frame}, ${protocol ? `decoding ${protocol}` : 'hexdump'}` +
      `${count ? `, until ${count} ${protocol ? 'frames' : 'lines'}` : ''}${durationMs ? `, for at most ${formatDuration(durationMs)}` : ''} (Ctrl-C to stop)\n`,
  );
  const decoder = protocol ? createProtocol(protocol, { lines }) : undefined;
  const dump = new Hexdump();
  let seen = 0;
  let bytes = 0;
  const started = Date.now();
  const outcome = await new Promise<{ lost?: Error; reason: string }>((resolve) => {
    const finish = (r: { lost?: Error; reason: string }): void => {
      clearTimeout(timer);
      process.off('SIGINT', onSigint);
      offClosed();
      resolve(r);
    };
    const onSigint = (): void => finish({ reason: 'interrupted' });
    process.once('SIGINT', onSigint);
    const offClosed = onStdoutClosed(onSigint); // `| head`: nobody reads any more
    const timer = setTimeout(() => finish({ reason: 'duration' }), durationMs ?? 2 ** 31 - 1);
    conn.onClose((err) => finish({ lost: err ?? new Error('port closed'), reason: 'lost' }));
    conn.onData((chunk) => {
      bytes += chunk.length;
      const lines = decoder ? decoder.push(chunk, Date.now()).map((f) => formatFrame(protocol as ProtocolName, f, new Date())) : dump.push(chunk);
      for (const line of lines) {
        if (count !== undefined && seen >= count) break;
        s.out.write(`${line}\n`);
        seen++;
      }
      if (count !== undefined && seen >= count) finish({ reason: 'count' });
    });
  });
  await conn.close();
  if (!decoder && outcome.reason !== 'count') for (const line of dump.flush()) s.out.write(`${line}\n`);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (decoder) {
    const c = decoder.counters();
    s.err.write(`${bytes} bytes in ${secs}s; ${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
    if (bytes > 0 && c.frames_ok === 0) {
      s.err.write(`bytes arrive but no ${protocol} frame decoded — check the baud rate (try without --protocol to see them) and the protocol\n`);
    }
  } else s.err.write(`${bytes} bytes in ${secs}s\n`);
  if (bytes === 0) s.err.write(`nothing received on ${settings.path} — check power, that sensor TX goes to adapter RX, and the baud rate\n`);
  if (outcome.lost) throw new Error(`serial port ${settings.path} was lost during the probe: ${describeError(outcome.lost)}`);
  if (count !== undefined && seen < count) {
    s.err.write(`only ${seen} of ${count} ${protocol ? 'frames' : 'lines'} in ${secs}s\n`);
    return 2;
  }
  return 0;
}

export function registerSerialProbe(probe: Command): void {
  probe
    .command('serial')
    .description('sniff a serial port: decode PMS5003 / SDS011 / NMEA / text lines live, or hexdump')
    .option('--port <path>', 'serial port, e.g. /dev/ttyUSB0 or /dev/serial/by-id/…')
    .option('--list', 'list serial ports and their /dev/serial/by-id/ links')
    .option('--baud <n>', 'baud rate (default 9600)')
    .option('--data-bits <n>', 'data bits: 5-8 (default 8)')
    .option('--parity <p>', 'none, even, odd, mark or space (default none)')
    .option('--stop-bits <n>', '1, 1.5 or 2 (default 1)')
    .option('--protocol <name>', `decode frames: ${PROTOCOLS.join(', ')} (default: hexdump)`)
    .option('--regex <re>', 'lines: named groups become points, e.g. "T=(?<t>[\\d.]+)"')
    .option('--columns <a,b,->', 'lines: CSV column names; "-" or empty skips a column')
    .option('--separator <s>', 'lines with --columns: field separator (default ",")')
    .option('--count <n>', 'stop after N frames (N hexdump lines without --protocol)')
    .option('--duration <d>', 'stop after this long, e.g. 10s')
    .action(async (opts: SerialProbeOptions) => {
      process.exitCode = await runSerialProbe(opts);
    });
}

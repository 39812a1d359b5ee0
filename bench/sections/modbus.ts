/**
 * Modbus (issue 3): how close the driver gets to a bare read loop, what it costs in
 * CPU, and what request planning saves.
 *
 * The slave is our in-process TCP server running in a child process (so this
 * process's CPU is the master's only), holding 100 float32 points per unit.
 * - citygate: UNITS modbus devices on one modbus-tcp bus, each polling its 100 points
 *   every 10 ms — more than the connection can carry, so the bus is the bottleneck and
 *   polls/s is the driver's capacity (queueing, scheduling, decode, emit, health).
 * - raw: the same two reads per poll in a tight loop on one socket with the same
 *   framing code (MBAP + PDU codecs) and the same float decode: the ceiling.
 * - jsmodbus: the same loop with jsmodbus 5's TCP client (one unit), for reference
 *   (we do not use it: see src/drivers/modbus/README.md).
 * raw and citygate run alternately in three rounds each, so load that changes during
 * the run (a shared CI box) hits both alike.
 * Target from the issue: citygate ≥ 0.9 × raw. For scale, Neuron (C) publishes
 * 15,000 Modbus TCP tags/s at ~124 % CPU of a 4-core server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Modbus from 'jsmodbus';
import type { BenchContext, BenchRow, BenchSection } from '../types.js';
import { systemClock } from '../../src/core/clock.js';
import type { DriverContext } from '../../src/core/driver.js';
import { silentLogger } from '../../src/core/log.js';
import { RefCountedResources } from '../../src/core/resources.js';
import { MemoryStateStore } from '../../src/core/state-store.js';
import { DeviceHealth } from '../../src/health/device-health.js';
import { decodeRegisters } from '../../src/drivers/modbus/codec.js';
import { devicePlan } from '../../src/drivers/modbus/device-plan.js';
import { modbusDriver } from '../../src/drivers/modbus/index.js';
import { decodeResponse, encodeRequest } from '../../src/drivers/modbus/pdu.js';
import { modbusDeviceSchema, tcpBusSchema } from '../../src/drivers/modbus/schema.js';
import { buildTcpFrame, parseTcpFrame } from '../../src/drivers/modbus/tcp-frame.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Enough devices at a 10 ms poll to offer more polls than one connection carries. */
const UNITS = 60;
const POINTS = Array.from({ length: 100 }, (_, i) => ({ name: `p${i}`, table: 'input', address: i * 2, type: 'float32' }));
const READS = [
  { address: 0, count: 124 },
  { address: 124, count: 76 },
];

async function startServer(): Promise<{ port: number; proc: ChildProcess }> {
  const mod = (p: string): string => JSON.stringify(pathToFileURL(join(REPO, p)).href);
  const code = `
    import { ModbusTcpServer } from ${mod('src/drivers/modbus/server/tcp-server.ts')};
    import { encodeRegisters } from ${mod('src/drivers/modbus/codec.ts')};
    const s = new ModbusTcpServer();
    for (let u = 1; u <= ${UNITS}; u++) for (let i = 0; i < 100; i++) s.slave(u).setRegisters('input', i * 2, encodeRegisters(u * 1000 + i + 0.5, 'float32'));
    const port = await s.start(0);
    process.stdout.write('PORT ' + port + '\\n');
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('modbus bench server did not start in 20s')), 20_000);
    proc.stdout?.on('data', (d: Buffer) => {
      const m = /PORT (\d+)/.exec(d.toString());
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    proc.once('exit', (c) => reject(new Error(`modbus bench server exited with ${c}`)));
  });
  return { port, proc };
}

interface Run {
  polls: number;
  points: number;
  seconds: number;
  cpuPct: number;
}

async function measure(ms: number, body: (stop: () => boolean) => Promise<{ polls: number; points: number }>): Promise<Run> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await body(() => performance.now() - t0 >= ms);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ...r, seconds, cpuPct: ((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100 };
}

/** Two reads per poll on one socket, our framing, no queue or scheduler. */
async function rawLoop(port: number, ms: number): Promise<Run> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let rx = Buffer.alloc(0);
  let waiting: ((pdu: Buffer) => void) | undefined;
  sock.on('data', (d: Buffer) => {
    rx = Buffer.concat([rx, d]);
    const f = parseTcpFrame(rx);
    if (f.kind === 'frame') {
      rx = rx.subarray(f.end);
      waiting?.(f.pdu);
    }
  });
  let tid = 0;
  const r = await measure(ms, async (stop) => {
    let polls = 0;
    let points = 0;
    for (let unit = 1; !stop(); unit = (unit % UNITS) + 1) {
      for (const rd of READS) {
        const req = { kind: 'read', table: 'input', address: rd.address, count: rd.count } as const;
        const pdu = await new Promise<Buffer>((resolve) => {
          waiting = resolve;
          sock.write(buildTcpFrame((tid = (tid + 1) & 0xffff), unit, encodeRequest(req)));
        });
        const regs = decodeResponse(req, pdu) as number[];
        for (let i = 0; i + 1 < regs.length; i += 2) if (decodeRegisters(regs.slice(i, i + 2), 'float32').value !== undefined) points++;
      }
      polls++;
    }
    return { polls, points };
  });
  sock.destroy();
  return r;
}

/** jsmodbus 5's TCP client: one client (unit 1) on its own socket — a client per unit on one socket would make every client parse every reply. */
async function jsmodbusLoop(port: number, ms: number): Promise<Run> {
  const sock = new net.Socket();
  const client = new Modbus.client.TCP(sock, 1, 2000);
  await new Promise<void>((r) => sock.connect({ host: '127.0.0.1', port }, () => r()));
  sock.setNoDelay(true);
  const r = await measure(ms, async (stop) => {
    let polls = 0;
    let points = 0;
    while (!stop()) {
      for (const rd of READS) {
        const resp = await client.readInputRegisters(rd.address, rd.count);
        const regs = resp.response.body.valuesAsArray as number[];
        for (let i = 0; i + 1 < regs.length; i += 2) if (decodeRegisters(regs.slice(i, i + 2), 'float32').value !== undefined) points++;
      }
      polls++;
    }
    return { polls, points };
  });
  sock.destroy();
  return r;
}

/** Runs a and b alternately, `rounds` times each, and adds up: load that drifts during the run hits both alike. */
async function alternate(rounds: number, a: () => Promise<Run>, b: () => Promise<Run>): Promise<[Run, Run]> {
  const sum = (x: Run, y: Run): Run => ({
    polls: x.polls + y.polls,
    points: x.points + y.points,
    seconds: x.seconds + y.seconds,
    cpuPct: (x.cpuPct * x.seconds + y.cpuPct * y.seconds) / (x.seconds + y.seconds),
  });
  const zero: Run = { polls: 0, points: 0, seconds: 0, cpuPct: 0 };
  let ra = zero;
  let rb = zero;
  for (let i = 0; i < rounds; i++) {
    ra = sum(ra, await a());
    rb = sum(rb, await b());
  }
  return [ra, rb];
}

async function citygateRun(port: number, ms: number): Promise<Run> {
  const bus = tcpBusSchema.parse({ type: 'modbus-tcp', host: '127.0.0.1', port, timeout: '2s' });
  const resources = new RefCountedResources();
  const controllers: AbortController[] = [];
  let points = 0;
  const drivers = Array.from({ length: UNITS }, (_, i) => {
    const cfg = modbusDeviceSchema.parse({ id: `m${i + 1}`, driver: 'modbus', bus: 'plc', unit: i + 1, poll: '10ms', points: POINTS });
    return modbusDriver.create(cfg, { buses: { plc: bus } });
  });
  const r = await measure(ms, async (stop) => {
    for (const [i, d] of drivers.entries()) {
      const ac = new AbortController(); // one per device, as the runtime does
      controllers.push(ac);
      const ctx: DriverContext = {
        device: `m${i + 1}`,
        emit: (s) => {
          points += Array.isArray(s) ? s.length : 1;
        },
        health: new DeviceHealth(`m${i + 1}`, systemClock),
        log: silentLogger(),
        clock: systemClock,
        signal: ac.signal,
        fail: () => undefined,
        resources,
        state: new MemoryStateStore(),
      };
      await d.start(ctx);
    }
    while (!stop()) await new Promise((res) => setTimeout(res, 20));
    return { polls: 0, points: 0 };
  });
  for (const ac of controllers) ac.abort();
  for (const d of drivers) await d.stop();
  await resources.closeAll();
  // A poll is complete when all 100 of its points were emitted.
  return { ...r, polls: points / POINTS.length, points };
}

const section: BenchSection = {
  name: 'modbus',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const ms = Math.max(600, Math.round(4500 * ctx.scale));
    const { port, proc } = await startServer();
    try {
      ctx.log(`modbus: server on 127.0.0.1:${port}, ${UNITS} units × 100 float32 points, ${ms} ms per measurement`);
      await rawLoop(port, 300); // warm up JIT and the server
      await citygateRun(port, 300);
      const [raw, cg] = await alternate(3, () => rawLoop(port, ms / 3), () => citygateRun(port, ms / 3));
      const js = await jsmodbusLoop(port, ms / 3);
      const per = (r: Run): number => Math.round(r.polls / r.seconds);
      const pts = (r: Run): number => Math.round(r.points / r.seconds);
      const ratio = per(cg) / per(raw);
      const cfg = modbusDeviceSchema.parse({ id: 'm', driver: 'modbus', bus: 'b', points: POINTS });
      const planned = devicePlan(cfg).groups[0]!.reads.length;
      const naive = devicePlan({ ...cfg, max_gap: 0, max_registers: 2 }).groups[0]!.reads.length;
      return [
        { name: 'modbus: polls/s (citygate, 100 float32 points/poll)', value: per(cg), unit: 'polls/s', baseline: per(raw), ratio: Math.round(ratio * 100) / 100, target: '>= 0.9x raw', ok: ratio >= 0.9, note: `raw loop: same framing, one socket, no scheduler` },
        { name: 'modbus: points/s (citygate)', value: pts(cg), unit: 'points/s', baseline: pts(raw), ratio: Math.round((pts(cg) / pts(raw)) * 100) / 100, note: 'Neuron (C): 15,000 tags/s at ~124% CPU' },
        { name: 'modbus: CPU while polling (citygate master only)', value: Math.round(cg.cpuPct), unit: '% of a core', baseline: Math.round(raw.cpuPct), note: `${Math.round(pts(cg) / Math.max(0.01, cg.cpuPct / 100))} points per CPU-second (raw: ${Math.round(pts(raw) / Math.max(0.01, raw.cpuPct / 100))})` },
        { name: 'modbus: polls/s (jsmodbus 5 loop, reference)', value: per(js), unit: 'polls/s', ratio: Math.round((per(js) / per(raw)) * 100) / 100, note: `CPU ${Math.round(js.cpuPct)}%` },
        { name: 'modbus: requests per poll, 100-point map (planned vs one per point)', value: planned, unit: 'requests', baseline: naive, ratio: planned / naive },
      ];
    } finally {
      proc.stdin?.end();
      proc.kill();
    }
  },
};

export default section;

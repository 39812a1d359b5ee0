/**
 * An in-process Modbus TCP server over the slaves of slave.ts, with scripted faults
 * (silent, slow, garbage, truncated, exception) and restart, for tests and the
 * benchmark. Units without a slave are silent, like an RTU gateway whose
 * target does not answer.
 */
import net from 'node:net';
import { buildTcpFrame, parseTcpFrame } from '../tcp-frame.js';
import { ModbusSlave, type FaultScript } from './slave.js';

export class ModbusTcpServer {
  readonly slaves = new Map<number, ModbusSlave>();
  fault: FaultScript | undefined;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  /** The slave for `unit`, created on first use. */
  slave(unit: number): ModbusSlave {
    let s = this.slaves.get(unit);
    if (!s) this.slaves.set(unit, (s = new ModbusSlave()));
    return s;
  }

  /** Listen on 127.0.0.1:`port` (0 = any free port); resolves with the port. */
  start(port = this.port): Promise<number> {
    const server = net.createServer((sock) => this.serve(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const a = server.address();
        this.port = typeof a === 'object' && a ? a.port : port;
        resolve(this.port);
      });
    });
  }

  /** Stop listening and cut every connection (a PLC power cycle). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const srv = this.server;
    this.server = undefined;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }

  get connections(): number {
    return this.sockets.size;
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let rx = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      rx = Buffer.concat([rx, d]);
      for (;;) {
        const r = parseTcpFrame(rx);
        if (r.kind === 'need-more') return;
        if (r.kind === 'bad') return void sock.destroy();
        rx = rx.subarray(r.end);
        this.answer(sock, r.tid, r.unit, r.pdu);
      }
    });
  }

  private answer(sock: net.Socket, tid: number, unit: number, pdu: Buffer): void {
    const slave = this.slaves.get(unit);
    const fault = this.fault?.(unit, pdu);
    if (!slave || fault?.kind === 'silent') return;
    const send = (b: Buffer): void => void (sock.destroyed || sock.write(b));
    const reply = (): Buffer =>
      fault?.kind === 'exception' ? buildTcpFrame(tid, unit, Buffer.from([(pdu[0] ?? 0) | 0x80, fault.code])) : buildTcpFrame(tid, unit, slave.handle(pdu));
    switch (fault?.kind) {
      case 'delay': {
        const t = setTimeout(() => {
          this.timers.delete(t);
          send(reply());
        }, fault.ms);
        this.timers.add(t);
        return;
      }
      case 'garbage':
        return send(fault.bytes ?? Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03]));
      case 'truncate':
        return send(reply().subarray(0, fault.keep));
      default:
        return send(reply());
    }
  }
}

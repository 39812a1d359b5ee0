/**
 * The slave side of an RTU line: reads request frames from a byte stream, answers
 * for the units it hosts, with scripted faults (silent, slow, garbage, truncated,
 * bad CRC, noise before the answer). Runs on one end of a socat pty pair in the
 * interop tests and on an in-process fake line in unit tests. Like a real slave it
 * resynchronises by dropping bytes until a frame with a good CRC starts.
 */
import { buildRtuFrame, rtuCrcOk } from '../rtu-frame.js';
import { ModbusSlave, type FaultScript } from './slave.js';

/** Length of the request frame starting at buf[0], if it can be known yet. */
function requestLength(buf: Buffer): number | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1] ?? 0;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length < 7 ? undefined : 9 + (buf[6] ?? 0);
  return -1;
}

export class RtuResponder {
  readonly slaves = new Map<number, ModbusSlave>();
  fault: FaultScript | undefined;
  private rx = Buffer.alloc(0);
  private readonly timers = new Set<NodeJS.Timeout>();

  /** `send` writes bytes back onto the line. */
  constructor(private readonly send: (b: Buffer) => void) {}

  slave(unit: number): ModbusSlave {
    let s = this.slaves.get(unit);
    if (!s) this.slaves.set(unit, (s = new ModbusSlave()));
    return s;
  }

  /** Feed bytes received from the line. */
  receive(chunk: Buffer): void {
    this.rx = Buffer.concat([this.rx, chunk]);
    for (;;) {
      const len = requestLength(this.rx);
      if (len === undefined || this.rx.length < len) return;
      if (len < 0 || !rtuCrcOk(this.rx.subarray(0, len))) {
        this.rx = this.rx.subarray(1); // hunt for the next frame start
        continue;
      }
      const frame = this.rx.subarray(0, len);
      this.rx = this.rx.subarray(len);
      this.answer(frame[0] ?? 0, Buffer.from(frame.subarray(1, len - 2)));
    }
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private answer(unit: number, pdu: Buffer): void {
    const slave = this.slaves.get(unit);
    const fault = this.fault?.(unit, pdu);
    if (!slave || fault?.kind === 'silent') return; // unit 0 (broadcast) and strangers: no answer
    const resp = fault?.kind === 'exception' ? Buffer.from([(pdu[0] ?? 0) | 0x80, fault.code]) : slave.handle(pdu);
    const frame = buildRtuFrame(unit, resp);
    switch (fault?.kind) {
      case 'delay': {
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.send(frame);
        }, fault.ms);
        this.timers.add(t);
        return;
      }
      case 'garbage':
        return this.send(fault.bytes ?? Buffer.from([0x55, 0xaa, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]));
      case 'truncate':
        return this.send(frame.subarray(0, fault.keep));
      case 'bad-crc': {
        const bad = Buffer.from(frame);
        bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
        return this.send(bad);
      }
      case 'noise-prefix':
        return this.send(Buffer.concat([fault.bytes, frame]));
      default:
        return this.send(frame);
    }
  }
}

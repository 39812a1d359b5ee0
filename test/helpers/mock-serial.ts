/**
 * The serial port layer over serialport's own mock binding, for driver tests that need
 * only Node: the real adapter (NodeSerialPorts) runs against `SerialPortMock`, with a
 * presence set the test controls to play unplug and replug.
 */
import { SerialPortMock } from 'serialport';
import { NodeSerialPorts, type PortConstructor } from '../../src/ports/serial/node-serialport.js';

export class MockSerialBench {
  readonly streams: SerialPortMock[] = [];
  readonly present = new Set<string>();
  readonly ports: NodeSerialPorts;

  constructor() {
    SerialPortMock.binding.reset();
    const streams = this.streams;
    class Recording extends SerialPortMock {
      constructor(opts: ConstructorParameters<typeof SerialPortMock>[0]) {
        super(opts);
        streams.push(this);
      }
    }
    this.ports = new NodeSerialPorts({
      Port: Recording as unknown as PortConstructor,
      exists: async (p) => this.present.has(p),
      list: () => SerialPortMock.list(),
    });
  }

  /** The adapter appears; `record` keeps every byte written to it (`current().port.recording`). */
  plug(path: string, opts: { record?: boolean } = {}): void {
    SerialPortMock.binding.createPort(path, { record: opts.record ?? false });
    this.present.add(path);
  }

  /** The adapter vanishes: the read fails (as serialport reports it) and the node disappears. */
  unplug(path: string, opts: { silently?: boolean } = {}): void {
    this.present.delete(path);
    const s = this.current();
    if (!opts.silently && s?.isOpen) s._disconnected(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
    SerialPortMock.binding.reset();
    for (const p of this.present) SerialPortMock.binding.createPort(p);
  }

  /** The most recent stream the adapter opened. */
  current(): SerialPortMock | undefined {
    return this.streams.at(-1);
  }

  /** Bytes arriving from the device on the open port. */
  send(data: Uint8Array): void {
    const s = this.current();
    if (!s?.port) throw new Error('no open mock port');
    s.port.emitData(Buffer.from(data));
  }
}

/** Let nextTick/setImmediate work (mock I/O) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

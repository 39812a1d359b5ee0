/**
 * ReconnectingSerial against a scripted SerialPorts (the contract, no serialport at all):
 * backoff grows while a port opens but stays silent and resets once data flows; a
 * throwing callback never escapes; stop() mid-open releases the late connection.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { ReconnectingSerial } from '../../../src/ports/serial/reconnecting.js';
import type { SerialConnection, SerialPorts, SerialSettings } from '../../../src/ports/serial/port.js';
import { settle } from '../../helpers/mock-serial.js';

class ScriptedConnection implements SerialConnection {
  readonly events = new EventEmitter();
  isOpen = true;
  constructor(readonly path: string) {}
  onData(fn: (chunk: Buffer) => void): void {
    this.events.on('data', fn);
  }
  onClose(fn: (err?: Error) => void): void {
    this.events.on('close', fn);
  }
  onError(fn: (err: Error) => void): void {
    this.events.on('error', fn);
  }
  async write(): Promise<void> {}
  async close(): Promise<void> {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.events.emit('close');
  }
}

class ScriptedPorts implements SerialPorts {
  conns: ScriptedConnection[] = [];
  present = true;
  gate: Promise<void> | undefined;
  async open(s: SerialSettings): Promise<SerialConnection> {
    await this.gate;
    if (!this.present) throw Object.assign(new Error(`cannot open serial port ${s.path}: not found`), { code: 'ENOENT' });
    const c = new ScriptedConnection(s.path);
    this.conns.push(c);
    return c;
  }
  async exists(): Promise<boolean> {
    return this.present;
  }
  async list() {
    return { ports: [] };
  }
}

const settings: SerialSettings = { path: '/dev/ttyX', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

describe('ReconnectingSerial', () => {
  it('a port that opens but stays silent is retried ever more slowly; data resets the backoff', async () => {
    const clock = new FakeClock({ random: () => 1 });
    const ports = new ScriptedPorts();
    const downs: number[] = [];
    const rs = new ReconnectingSerial({
      settings, ports, clock, backoff: { min: 1000, max: 16_000 }, silenceTimeoutMs: 4000, presenceCheckMs: 0,
      onData: () => undefined,
      onDown: (_e, retry) => downs.push(retry),
    });
    // Opens resolve asynchronously, so time moves in small steps with the I/O settled between.
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += 250) {
        clock.advance(250);
        await settle(2);
      }
    };
    await rs.start();
    await run(4000 + 1000 + 4000 + 2000 + 4000 + 4000 + 4000); // four silent periods and the reopen delays between
    expect(downs).toEqual([1000, 2000, 4000, 8000]);
    await run(8000); // reopened
    ports.conns.at(-1)?.events.emit('data', Buffer.from('x'));
    await run(4000);
    expect(downs.at(-1)).toBe(1000);
    expect(ports.conns).toHaveLength(5);
    await rs.stop();
    expect(clock.pending()).toBe(0);
  });

  it('a throwing callback is reported through onError and never escapes', async () => {
    const clock = new FakeClock();
    const ports = new ScriptedPorts();
    const errors: string[] = [];
    const rs = new ReconnectingSerial({
      settings, ports, clock, presenceCheckMs: 0,
      onData: () => {
        throw new Error('bug in a driver');
      },
      onError: (e) => errors.push(e.message),
    });
    await rs.start();
    expect(() => ports.conns[0]?.events.emit('data', Buffer.from('x'))).not.toThrow();
    expect(errors).toEqual(['bug in a driver']);
    await rs.stop();
  });

  it('an unexpected close names the port and schedules a reopen; stop() during an open closes the late connection', async () => {
    const clock = new FakeClock({ random: () => 1 });
    const ports = new ScriptedPorts();
    const downs: string[] = [];
    const rs = new ReconnectingSerial({ settings, ports, clock, presenceCheckMs: 0, onData: () => undefined, onDown: (e) => downs.push(e.message) });
    await rs.start();
    ports.conns[0]?.events.emit('close', new Error('EIO'));
    expect(downs).toEqual(['serial port /dev/ttyX lost: EIO']);
    expect(rs.connected).toBe(false);
    let release!: () => void;
    ports.gate = new Promise((r) => (release = r));
    clock.advance(1000);
    const stopping = rs.stop();
    release();
    await stopping;
    await settle();
    expect(ports.conns.every((c) => !c.isOpen)).toBe(true);
    expect(clock.pending()).toBe(0);
  });
});

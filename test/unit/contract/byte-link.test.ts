/**
 * The byte-link contract against the in-process RTU line the Modbus tests use, the TCP
 * adapter on a loopback socket, and the serial adapter on the mock binding. The serial
 * adapter also runs it on a socat pty pair in test/interop/byte-link-contract.test.ts.
 */
import net from 'node:net';
import { SerialPortMock } from 'serialport';
import { SerialLink } from '../../../src/drivers/modbus/serial-link.js';
import { TcpLink } from '../../../src/drivers/modbus/tcp-link.js';
import { byteLinkContract } from '../../contract/byte-link.js';
import { MockSerialBench, settle } from '../../helpers/mock-serial.js';
import { freePort } from '../../helpers/net.js';
import { FakeRtuLink } from '../modbus/fake-line.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

byteLinkContract('FakeRtuLink (in-process RTU line)', async () => {
  const link = new FakeRtuLink(3);
  const broken = new FakeRtuLink();
  broken.failOpen = new Error(`${broken.name} does not exist`);
  return {
    link,
    broken,
    peer: () => ({
      async send(bytes) {
        link.deliver(bytes);
        for (let i = 0; i < bytes.length; i++) await tick();
      },
      received: () => Buffer.concat(link.writes),
      async kill() {
        link.unplug();
      },
    }),
    async cleanup() {},
  };
});

byteLinkContract('TcpLink on a loopback socket', async () => {
  const sockets: { socket: net.Socket; got: Buffer[] }[] = [];
  const server = net.createServer((socket) => {
    const entry = { socket, got: [] as Buffer[] };
    socket.on('data', (b) => entry.got.push(b));
    socket.on('error', () => undefined);
    sockets.push(entry);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const current = () => {
    const s = sockets.at(-1);
    if (!s) throw new Error('no connection yet');
    return s;
  };
  return {
    link: new TcpLink('127.0.0.1', port, 1000),
    broken: new TcpLink('127.0.0.1', await freePort(), 1000),
    peer: () => ({
      send: (bytes) => new Promise<void>((resolve, reject) => current().socket.write(bytes, (e) => (e ? reject(e) : resolve()))),
      received: () => Buffer.concat(current().got),
      async kill() {
        current().socket.destroy();
      },
    }),
    async cleanup() {
      for (const s of sockets) s.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
});

byteLinkContract('SerialLink on the mock binding', async () => {
  const bench = new MockSerialBench();
  const path = '/dev/ttyLINK0';
  bench.plug(path, { record: true });
  const settings = { path, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;
  return {
    link: new SerialLink(settings, bench.ports),
    broken: new SerialLink({ ...settings, path: '/dev/ttyLINK-MISSING' }, bench.ports),
    peer: () => ({
      async send(bytes) {
        bench.send(bytes);
        await settle();
      },
      received: () => Buffer.from(bench.current()?.port?.recording ?? Buffer.alloc(0)),
      async kill() {
        bench.unplug(path);
        await settle();
      },
    }),
    async cleanup() {
      SerialPortMock.binding.reset();
    },
  };
});

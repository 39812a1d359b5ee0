/**
 * The serial port contract against the fake drivers are tested with: the real adapter
 * (NodeSerialPorts) on serialport's mock binding. The same suite runs on socat ptys in
 * test/interop/serial-port-contract.test.ts.
 */
import { SerialPortMock } from 'serialport';
import { serialPortContract } from '../../contract/serial-port.js';
import { MockSerialBench, settle } from '../../helpers/mock-serial.js';

serialPortContract('NodeSerialPorts on the mock binding', async () => {
  const bench = new MockSerialBench();
  const path = '/dev/ttyCONTRACT0';
  return {
    ports: bench.ports,
    missingPath: '/dev/ttyCONTRACT-MISSING',
    async plug() {
      bench.plug(path, { record: true });
      const stream = () => bench.streams.at(-1);
      return {
        path,
        peer: {
          async send(bytes) {
            bench.send(bytes);
            await settle();
          },
          received: () => Buffer.from(stream()?.port?.recording ?? Buffer.alloc(0)),
          async unplug() {
            bench.unplug(path);
            await settle();
          },
        },
      };
    },
    async cleanup() {
      SerialPortMock.binding.reset();
    },
  };
});

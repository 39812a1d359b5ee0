/**
 * Building a ModbusBus from validated bus config: the serial or TCP link, timeouts,
 * and the RTU inter-frame gap derived from the baud rate. The only place that knows
 * both the config shape and the adapters.
 */
import type { Clock } from '../../core/clock.js';
import { ModbusBus } from './bus.js';
import { interFrameMs } from './rtu-frame.js';
import type { ModbusBusConfig } from './schema.js';
import type { SerialPorts } from '../../ports/serial/port.js';
import { SerialLink } from './serial-link.js';
import { TcpLink } from './tcp-link.js';

export const busKey = (name: string): string => `modbus-bus:${name}`;

/** `serialPorts`: where RTU buses open their port (tests pass the mock-binding adapter). */
export function openBus(name: string, cfg: ModbusBusConfig, clock: Clock, serialPorts?: SerialPorts): ModbusBus {
  if (cfg.type === 'modbus-tcp') {
    return new ModbusBus({
      name,
      kind: 'tcp',
      link: new TcpLink(cfg.host, cfg.port, cfg.timeout),
      clock,
      timeoutMs: cfg.timeout,
      retries: cfg.retries,
      interFrameMs: 0,
      reconnect: cfg.reconnect,
    });
  }
  const settings = { path: cfg.port, baudRate: cfg.baud, parity: cfg.parity, dataBits: cfg.data_bits, stopBits: cfg.stop_bits };
  return new ModbusBus({
    name,
    kind: 'rtu',
    link: new SerialLink(settings, serialPorts),
    clock,
    timeoutMs: cfg.timeout,
    retries: cfg.retries,
    interFrameMs: cfg.inter_frame_delay ?? interFrameMs(cfg.baud),
    reconnect: cfg.reconnect,
  });
}

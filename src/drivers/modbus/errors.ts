/**
 * What can go wrong in one Modbus exchange, as error classes the bus layer, the
 * driver and the probe tell apart:
 * - ModbusTimeoutError: nothing (or nothing usable) came back in time; the slave may be dead.
 * - ModbusFrameError: bytes came back but not a valid frame (CRC, garbage, truncated,
 *   wrong unit or function): the line is noisy or two masters collide; the bus resyncs.
 * - ModbusExceptionError: the slave answered and refused (illegal address …); it is
 *   alive, only the points of that request are affected.
 * - ModbusLinkError: the port or connection is down (unplugged, refused, reset).
 */
export type FrameFault = 'crc' | 'garbage' | 'truncated' | 'mismatch';

export class ModbusTimeoutError extends Error {
  override name = 'ModbusTimeoutError';
}

export class ModbusFrameError extends Error {
  override name = 'ModbusFrameError';
  constructor(
    readonly fault: FrameFault,
    message: string,
  ) {
    super(message);
  }
}

export class ModbusLinkError extends Error {
  override name = 'ModbusLinkError';
}

export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export class ModbusExceptionError extends Error {
  override name = 'ModbusExceptionError';
  constructor(
    readonly code: number,
    readonly functionCode: number,
  ) {
    super(`Modbus exception ${code} (${EXCEPTION_NAMES[code] ?? 'unknown'}) for function ${functionCode}`);
  }
}

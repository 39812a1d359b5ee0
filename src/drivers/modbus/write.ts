/**
 * `modbus_write`: the downlink operation on a Modbus device. Only points declared
 * `writable: true` (holding or coil) can be written, with a value of the point's own
 * type (raw register value: scale/offset are not undone), encoded with its order.
 * One coil: FC05; one register: FC06; several registers: FC16. With `verify` (the
 * default) the registers are read back and must equal what was written, so a slave
 * that acknowledges and ignores (write-protected, out of range, local mode) is caught.
 */
import { z } from 'zod';
import { encodeRegisters, decodeRegisters } from './codec.js';
import type { ModbusBus } from './bus.js';
import type { ModbusRequest } from './pdu.js';
import type { PointSpec } from './points.js';

export const writeArgsSchema = z.strictObject({
  point: z.string().min(1),
  value: z.union([z.number(), z.boolean(), z.string()]),
  verify: z.boolean().default(true),
});

export interface WriteResult {
  point: string;
  value: number | boolean | string;
  registers?: number[];
  verified: boolean;
}

export interface WriteDeps {
  device: string;
  busName: string;
  unit: number;
  bus: Pick<ModbusBus, 'request'>;
  points: ReadonlyMap<string, PointSpec>;
  timeoutMs?: number;
}

export async function modbusWrite(rawArgs: Record<string, unknown>, d: WriteDeps): Promise<WriteResult> {
  const parsed = writeArgsSchema.safeParse(rawArgs);
  if (!parsed.success) {
    throw new Error(`modbus_write on ${d.device}: expected { point, value, verify? } — ${parsed.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ')}`);
  }
  const { point, value, verify } = parsed.data;
  const p = d.points.get(point);
  if (!p) throw new Error(`modbus_write on ${d.device}: no point "${point}" (points: ${[...d.points.keys()].join(', ')})`);
  if (!p.writable) throw new Error(`modbus_write on ${d.device}: point "${point}" is not writable — set writable: true on it in the config`);
  const timing = d.timeoutMs !== undefined ? { timeoutMs: d.timeoutMs } : {};
  // Writes jump the queue: an operator is waiting for the answer.
  const send = (request: ModbusRequest) => d.bus.request({ unit: d.unit, request, priority: -Infinity, ...timing });

  if (p.table === 'coil') {
    const bit = value === true || value === 1 || value === 'true' || value === 'on' ? true : value === false || value === 0 || value === 'false' || value === 'off' ? false : undefined;
    if (bit === undefined) throw new Error(`modbus_write on ${d.device}: coil "${point}" takes true or false, got ${JSON.stringify(value)}`);
    await send({ kind: 'write-coil', address: p.address, value: bit });
    if (!verify) return { point, value: bit, verified: false };
    const back = (await send({ kind: 'read', table: 'coil', address: p.address, count: 1 })).data[0];
    if (back !== bit) throw new Error(`modbus_write on ${d.device}: wrote ${bit} to coil "${point}" but it reads back ${String(back)} — the slave ignored the write (local mode? interlock?)`);
    return { point, value: bit, verified: true };
  }

  let regs: number[];
  try {
    regs = encodeRegisters(value, p.type, p.order, p.length);
  } catch (err) {
    throw new Error(`modbus_write on ${d.device}: ${(err as Error).message} (point "${point}" is ${p.type})`);
  }
  await send(regs.length === 1 ? { kind: 'write-register', address: p.address, value: regs[0] ?? 0 } : { kind: 'write-registers', address: p.address, values: regs });
  if (!verify) return { point, value, registers: regs, verified: false };
  const back = (await send({ kind: 'read', table: 'holding', address: p.address, count: regs.length })).data as number[];
  if (back.length !== regs.length || back.some((r, i) => r !== regs[i])) {
    const got = decodeRegisters(back, p.type, p.order).value;
    throw new Error(`modbus_write on ${d.device}: wrote ${JSON.stringify(value)} to "${point}" but it reads back ${JSON.stringify(got)} — the slave changed or ignored the value (limits? write protection?)`);
  }
  return { point, value, registers: regs, verified: true };
}

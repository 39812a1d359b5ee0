/**
 * Config schemas for Modbus: the two bus types (`modbus-rtu`, `modbus-tcp`) and the
 * `modbus` device with its points. Defaults live here and nowhere else (docs/architecture.md#one-schema).
 * Cross-field rules (a coil is a bool, a string needs a length, writable points are
 * holding or coil …) are checked here so `citygate validate` reports them with a line.
 */
import { z } from 'zod';
import { address } from '../../core/secret-mark.js';
import { deviceBaseKeys, duration, ifThen, pointPipelineKeys, serialPortNotes, topicId } from '../../core/primitives.js';
import type { BusDefinition } from '../../core/driver.js';
import { DATA_TYPES, ORDER_ALIASES, registerCount } from './codec.js';
import { READ_LIMIT, TABLES } from './pdu.js';
import { baudField } from '../../core/baud.js';

const reconnect = (min: string, max: string) =>
  z
    .strictObject({
      min: duration({ min: 1 }).prefault(min).meta({ description: 'First delay before reopening a lost port or connection.' }),
      max: duration({ min: 1 }).prefault(max).meta({ description: 'Longest delay between attempts (exponential backoff with jitter).' }),
    })
    .prefault({})
    .meta({ description: 'How a lost port or connection is reopened.' });

const retries = z.number().int().min(0).max(5).default(1).meta({
  description: 'Extra attempts after a timeout or a bad frame, while the slave is answering (a slave that stopped answering gets none).',
});

export const rtuBusSchema = z.strictObject({
  type: z.literal('modbus-rtu'),
  port: address(z.string().min(1).meta({ description: 'Serial device, e.g. /dev/ttyUSB0; prefer the stable /dev/serial/by-id/… path.' })),
  baud: baudField(300, 921_600)
    .default(9600)
    .meta({ description: 'Line speed; every slave on the bus must match. A standard rate: 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600.' }),
  parity: z.enum(['none', 'even', 'odd']).default('none').meta({ description: 'Parity; the Modbus spec default is even, most meters ship with none.' }),
  data_bits: z.union([z.literal(7), z.literal(8)], { error: 'expected 7 or 8 data bits (Modbus RTU uses 8)' }).default(8),
  stop_bits: z.union([z.literal(1), z.literal(2)], { error: 'expected 1 or 2 stop bits' }).default(1),
  timeout: duration({ min: 1 }).prefault('500ms').meta({ description: 'How long to wait for an answer before giving up on a request.' }),
  inter_frame_delay: duration()
    .optional()
    .meta({ description: 'Silence between a response and the next request (default: 3.5 characters at this baud, 1.75ms above 19200).' }),
  retries,
  reconnect: reconnect('1s', '1m'),
});

export const tcpBusSchema = z.strictObject({
  type: z.literal('modbus-tcp'),
  host: z
    .string()
    .min(1)
    .refine((h) => !/^[^:[\]]+:\d+$/.test(h) && !/^\[.*\]:\d+$/.test(h), {
      error: (iss) => {
        const m = /^(.*):(\d+)$/.exec(String(iss.input));
        return `host takes the address only — write host: ${m?.[1] ?? '…'} and port: ${m?.[2] ?? '502'}`;
      },
    })
    .meta({ description: 'PLC or gateway address (name or IP), without the port.', substitution: 'address' }),
  port: address(z.number().int().min(1).max(65_535).default(502)),
  unit: z.number().int().min(0).max(255).default(1).meta({ description: 'Unit id for devices that do not set one (1, or 255 for many PLCs).' }),
  timeout: duration({ min: 1 }).prefault('1s').meta({ description: 'How long to wait for an answer (and for the connection).' }),
  retries,
  reconnect: reconnect('1s', '1m'),
});

export type RtuBusConfig = z.output<typeof rtuBusSchema>;
export type TcpBusConfig = z.output<typeof tcpBusSchema>;
export type ModbusBusConfig = RtuBusConfig | TcpBusConfig;

const orderNames = Object.keys(ORDER_ALIASES) as [string, ...string[]];
/** byte_order / word_order; an ABCD-style value gets told which of big/little it means. */
const endian = (kind: 'byte_order' | 'word_order') =>
  z.enum(['big', 'little'], {
    error: (iss) => {
      const v = typeof iss.input === 'string' ? iss.input.toUpperCase() : undefined;
      const words: Record<string, [string, string]> = { ABCD: ['big', 'big'], CDAB: ['big', 'little'], BADC: ['little', 'big'], DCBA: ['little', 'little'] };
      const w = v ? words[v] : undefined;
      if (w) return `${JSON.stringify(iss.input)} is an order: value — write order: ${v}, or ${kind}: ${kind === 'byte_order' ? w[0] : w[1]}`;
      return undefined;
    },
  });

export const modbusPointSchema = z
  .strictObject({
    ...pointPipelineKeys,
    table: z.enum(TABLES).meta({ description: 'coil (FC01/05/15), discrete (FC02), input (FC04) or holding (FC03/06/16).' }),
    address: z.number().int().min(0).max(65_535).meta({ description: "Register or bit address, 0-based unless the device sets address_base: 1." }),
    type: z.enum(DATA_TYPES).optional().meta({ description: 'Value type (default: bool for coil/discrete, uint16 for registers).' }),
    bit: z.number().int().min(0).max(15).optional().meta({ description: 'A single bit (0 = least significant) of an input/holding register, as a bool.' }),
    length: z.number().int().min(1).max(READ_LIMIT.holding).optional().meta({ description: 'string: number of registers (two characters each).' }),
    order: z.enum(orderNames).optional().meta({ description: 'Byte/word order: ABCD, CDAB, BADC, DCBA (or big, little, word_swap, byte_swap).' }),
    byte_order: endian('byte_order').optional().meta({ description: 'Byte order inside each register (default: the device setting, big).' }),
    word_order: endian('word_order').optional().meta({ description: 'Register order of 32/64-bit values (default: the device setting, big).' }),
    poll: duration({ min: 10 }).optional().meta({ description: 'Poll this point on its own interval instead of the device poll.' }),
    writable: z.boolean().default(false).meta({ description: 'Allow modbus_write to this point (holding or coil only).' }),
  })
  // The cross-key rules below, as JSON Schema for editors (validate runs the superRefine).
  .meta({
    allOf: [
      ifThen({ table: { enum: ['coil', 'discrete'] } }, { properties: { type: { const: 'bool' }, bit: false } }),
      ifThen({ bit: {} }, { properties: { type: { const: 'bool' }, table: { enum: ['input', 'holding'] }, writable: { const: false } } }),
      ifThen({ type: { const: 'string' } }, { required: ['length'] }),
      ifThen({ length: {} }, { properties: { type: { const: 'string' } }, required: ['type'] }),
      ifThen({ writable: { const: true } }, { properties: { table: { enum: ['holding', 'coil'] } } }),
      ifThen({ order: {} }, { properties: { byte_order: false, word_order: false } }),
    ],
  })
  .superRefine((p, ctx) => {
    const bitTable = p.table === 'coil' || p.table === 'discrete';
    const type = p.type ?? (bitTable || p.bit !== undefined ? 'bool' : 'uint16');
    const issue = (path: string, message: string): void => void ctx.addIssue({ code: 'custom', path: [path], message });
    if (bitTable && type !== 'bool') issue('type', `a ${p.table} is a single bit: type must be bool, got ${type}`);
    if (p.bit !== undefined && bitTable) issue('bit', `bit selects a bit of a register; a ${p.table} is already a bit`);
    if (p.bit !== undefined && type !== 'bool') issue('bit', `a register bit is a bool; remove type: ${type} or bit`);
    if (type === 'string' && p.length === undefined) issue('length', 'type string needs length: <registers> (two characters per register)');
    if (type !== 'string' && p.length !== undefined) issue('length', 'length is only for type string');
    if (p.order !== undefined && (p.byte_order !== undefined || p.word_order !== undefined))
      issue('order', 'give either order or byte_order/word_order, not both');
    const end = p.address + registerCount(type, p.length) - 1;
    if (!bitTable && end > 65_535) issue('address', `a ${type} at ${p.address} runs past the last register (65535)`);
    if (p.writable && (p.table === 'input' || p.table === 'discrete'))
      issue('writable', `${p.table} is read-only in Modbus; only holding registers and coils can be written`);
    if (p.writable && p.bit !== undefined) issue('writable', 'single register bits cannot be written (write the whole register as uint16)');
  });

export const modbusDeviceSchema = z
  .strictObject({
    ...deviceBaseKeys,
    driver: z.literal('modbus'),
    bus: topicId.meta({ description: 'Name of a modbus-rtu or modbus-tcp bus under buses:.' }),
    unit: z.number().int().min(0).max(255).optional().meta({ description: 'Slave / unit id (RTU 1-247; TCP default: the bus unit).' }),
    poll: duration({ min: 10 }).prefault('10s').meta({ description: 'How often every point is read (points may override).' }),
    address_base: z
      .union([z.literal(0), z.literal(1)], { error: 'expected 0 (protocol addresses) or 1 (the manual counts from 1)' })
      .default(0)
      .meta({ description: '0: addresses are protocol addresses; 1: the manual numbers registers from 1 (address 1 = protocol 0).' }),
    byte_order: endian('byte_order').default('big').meta({ description: 'Default byte order inside a register.' }),
    word_order: endian('word_order').default('big').meta({ description: 'Default register order for 32/64-bit values.' }),
    max_gap: z.number().int().min(0).max(READ_LIMIT.holding).default(10).meta({
      description: 'Read across up to this many unused registers (×16 for coils) to save requests; 0 reads only contiguous points together.',
    }),
    max_registers: z.number().int().min(1).max(READ_LIMIT.holding).default(READ_LIMIT.holding).meta({
      description: 'Most registers per read, for slaves that allow fewer than the protocol limit of 125.',
    }),
    max_bits: z.number().int().min(1).max(READ_LIMIT.coil).default(READ_LIMIT.coil).meta({ description: 'Most coils/discretes per read.' }),
    timeout: duration({ min: 1 }).optional().meta({ description: "Override the bus timeout for this slave." }),
    backoff_max: duration({ min: 100 }).prefault('1m').meta({
      description: 'A slave that stops answering is probed with growing pauses up to this, so it never stalls the rest of the bus.',
    }),
    points: z.array(modbusPointSchema).min(1),
  })
  .superRefine((d, ctx) => {
    if (d.address_base === 1) {
      d.points.forEach((p, i) => {
        if (p.address === 0)
          ctx.addIssue({ code: 'custom', path: ['points', i, 'address'], message: 'with address_base: 1 addresses start at 1 (1 = protocol address 0)' });
      });
    }
  });

export type ModbusDeviceConfig = z.output<typeof modbusDeviceSchema>;
export type ModbusPointConfig = z.output<typeof modbusPointSchema>;

export const modbusRtuBus: BusDefinition = {
  type: 'modbus-rtu',
  description: 'Modbus RTU over a serial port (RS-485 / RS-232); several slaves share it, one request at a time.',
  schema: rtuBusSchema,
  claims: (c) => [`serial:${String(c.port)}`],
  check: (c) => serialPortNotes(String(c.port)),
};

export const modbusTcpBus: BusDefinition = {
  type: 'modbus-tcp',
  description: 'Modbus TCP to a PLC or an RTU gateway; one connection, one request at a time.',
  schema: tcpBusSchema,
};

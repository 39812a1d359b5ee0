/**
 * `citygate decode [file]`: a data message payload (JSON or compact, docs/encoding.md)
 * from a file or stdin, printed as its JSON form: the reference decoder on the command
 * line, e.g. `mosquitto_sub -t 'citygate/+/data/+' -C 1 -F %x | citygate decode --hex`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { DecodeError, decodeDataPayload } from '../../uplink/encoding/decode.js';

/** MQTT's own ceiling for a packet: no payload is larger. */
const MAX_INPUT = 268_435_455;

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) throw new UserError('decode: give a payload file, or pipe a payload into stdin');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_INPUT) throw new UserError(`decode: stdin is larger than any MQTT payload (${MAX_INPUT} bytes)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new UserError(`decode: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

function fromHex(buf: Buffer, where: string): Buffer {
  const text = buf.toString('latin1').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new UserError(`decode: ${where} is not hex (--hex expects pairs of 0-9a-f, whitespace ignored)`);
  return Buffer.from(text, 'hex');
}

export function registerDecode(program: Command): void {
  program
    .command('decode')
    .description('print a data message payload (JSON or compact encoding) as JSON; from a file or stdin')
    .argument('[file]', 'payload file (default: stdin; "-" also means stdin)')
    .option('--hex', 'the input is the payload in hex (as mosquitto_sub -F %x prints it)')
    .option('--pretty', 'indent the JSON')
    .action(async (file: string | undefined, opts: { hex?: boolean; pretty?: boolean }) => {
      const where = file === undefined || file === '-' ? 'stdin' : file;
      let payload = where === 'stdin' ? await readStdin() : readInput(where);
      if (opts.hex) payload = fromHex(payload, where);
      try {
        const msg = decodeDataPayload(payload);
        process.stdout.write(`${JSON.stringify(msg, null, opts.pretty ? 2 : undefined)}\n`);
      } catch (err) {
        if (err instanceof DecodeError) throw new UserError(`decode: ${where}: ${err.message}`);
        throw err;
      }
    });
}

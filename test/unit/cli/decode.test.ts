/** `citygate decode`: the reference decoder on the command line (a child process, as installed). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMessages } from '../../../src/uplink/batcher.js';
import { STACK, runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';

const json = Array.from({ length: 12 }, (_, i) => `{"seq":${41 + i},"ts":${1_764_600_000_000 + i},"point":"p${i % 4}","value":${i / 4},"unit":"V","quality":"good"}`).join(',');
const [msg] = buildMessages('gw-1', [{ id: 41, device: 'dev', firstSeq: 41, lastSeq: 52, count: 12, json }], 100, 1 << 20, { encoding: 'compact', replay: true });
const [plain] = buildMessages('gw-1', [{ id: 41, device: 'dev', firstSeq: 41, lastSeq: 52, count: 12, json }], 100, 1 << 20, { replay: true });

describe('citygate decode', () => {
  it('prints a compact payload file as its JSON form', async () => {
    const file = join(tempDir(), 'payload.bin');
    writeFileSync(file, msg!.payload);
    const r = await runCli(['decode', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${plain!.payload as string}\n`);
  });

  it('reads hex from stdin (mosquitto_sub -F %x)', async () => {
    const r = await runCli(['decode', '--hex', '--pretty'], { input: `${Buffer.from(msg!.payload).toString('hex')}\n` });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(plain!.payload as string));
    expect(r.stdout).toContain('\n  "device": "dev"');
  });

  it('refuses garbage with a clear message and exit 1, no stack trace', async () => {
    const r = await runCli(['decode'], { input: 'garbage' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^citygate: decode: stdin: not a citygate data message: first byte 0x67/);
    expect(r.stderr).not.toMatch(STACK);
    const missing = await runCli(['decode', '/nonexistent/payload']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read /nonexistent/payload: no such file');
  });
});

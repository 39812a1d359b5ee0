/**
 * Every command's error paths, as a person meets them: bad flags, missing files, a
 * closed pipe, an unplugged port, Ctrl-C. The CLI must answer each with a message and
 * an exit code that means what the README promises (0 ok, 1 the user's mistake, 2 a runtime
 * failure; 130 after Ctrl-C), and never with a stack trace.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BIN, ROOT, STACK, runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';

const dir = tempDir('cg-errpaths-');
const good = join(dir, 'gateway.yaml');
writeFileSync(good, stringify({ gateway: { id: 'err-gw', data_dir: join(dir, 'data') }, uplink: { url: 'mqtt://127.0.0.1:9' }, devices: [{ id: 't', driver: 'sim', points: [{ name: 'a' }] }] }));
const broken = join(dir, 'broken.yaml');
writeFileSync(broken, 'gateway: { id: g }\nuplink: { url: "mqtts://b:99999" }\n');
mkdirSync(join(dir, 'a-directory'));

interface Case {
  args: string[] | (() => Promise<string[]>);
  code: number;
  /** A fragment the output must hold: the message that says what to do. */
  says: RegExp;
}

const cases: Record<string, Case> = {
  'unknown command': { args: ['bogus'], code: 1, says: /unknown command 'bogus'/ },
  'unknown option': { args: ['validate', '--bogus', good], code: 1, says: /unknown option '--bogus'/ },
  'validate without files': { args: ['validate'], code: 1, says: /missing required argument/ },
  'validate a missing file': { args: ['validate', join(dir, 'nope.yaml')], code: 1, says: /cannot read \(no such file\)/ },
  'validate a directory': { args: ['validate', join(dir, 'a-directory')], code: 1, says: /cannot read \(it is a directory\)/ },
  'validate a broken config': { args: ['validate', broken], code: 1, says: /broken\.yaml:2:16: uplink\.url: port 99999 is out of range/ },
  'run with a missing config': { args: ['run', '--config', join(dir, 'nope.yaml')], code: 1, says: /config file .*nope\.yaml does not exist/ },
  'run with a broken config': { args: ['run', '--config', broken], code: 1, says: /port 99999 is out of range/ },
  'doctor with a broken config': { args: ['doctor', '--config', broken, '--no-broker'], code: 1, says: /✗ config .*port 99999 is out of range/ },
  'status with a missing config': { args: ['status', '--config', join(dir, 'nope.yaml')], code: 1, says: /does not exist/ },
  'status with nothing listening': { args: async () => ['status', '--url', `http://127.0.0.1:${await freePort()}`], code: 2, says: /no gateway answering at/ },
  'queue stats before the first run': { args: ['queue', 'stats', '--config', good], code: 1, says: /no buffer at .*has the gateway run/ },
  'queue export before the first run': { args: ['queue', 'export', '--config', good], code: 1, says: /no buffer at .*has the gateway run/ },
  'queue purge before the first run': { args: ['queue', 'purge', '--config', good], code: 1, says: /data does not exist — has the gateway run with this config/ },
  'schema --docs under /proc': { args: ['schema', '--docs', '/proc/citygate-docs'], code: 1, says: /--docs \/proc\/citygate-docs: cannot create it \(this file system does not take directories there\)/ },
  'keys generate --out below a file': { args: ['keys', 'generate', 'k', '--out', join(good, 'keys')], code: 1, says: /--out .*gateway\.yaml\/keys: cannot create it \(a file is in the way\)/ },
  'probe modbus: unplugged adapter': { args: ['probe', 'modbus', 'scan', '--port', '/dev/ttyCITYGATE-NONE', '--units', '1'], code: 2, says: /the port does not exist: is the adapter plugged in/ },
  'probe modbus: nothing listening': { args: async () => ['probe', 'modbus', 'read', '--host', '127.0.0.1', '--port', String(await freePort()), '--address', '0'], code: 2, says: /127\.0\.0\.1:\d+/ },
  'probe modbus: unit out of range': { args: ['probe', 'modbus', 'read', '--host', '127.0.0.1', '--unit', '300', '--address', '0'], code: 1, says: /--unit must be 0-255/ },
  'probe modbus: address out of range': { args: ['probe', 'modbus', 'read', '--host', '127.0.0.1', '--address', '65536'], code: 1, says: /--address must be 0-65535, got 65536/ },
  'probe serial: unplugged adapter': { args: ['probe', 'serial', '--port', '/dev/ttyCITYGATE-NONE', '--protocol', 'pms5003'], code: 1, says: /does not exist: is the adapter plugged in\?/ },
  'probe gpio: bad pin': { args: ['probe', 'gpio', 'watch', 'seventeen', '--duration', '1s'], code: 1, says: /pin|GPIO/i },
};

describe('every command, every error path', () => {
  for (const [name, c] of Object.entries(cases)) {
    it.concurrent(name, async () => {
      const args = typeof c.args === 'function' ? await c.args() : c.args;
      const r = await runCli(args, { timeoutMs: 100_000 });
      const all = r.stdout + r.stderr;
      expect(all, 'a stack trace reached the user').not.toMatch(STACK);
      expect(all).not.toMatch(/Unhandled 'error' event|ERR_[A-Z_]+\)?$/m);
      expect({ code: r.code, signal: r.signal }, all).toEqual({ code: c.code, signal: null });
      expect(all).toMatch(c.says);
    }, 120_000);
  }
});

describe("a data_dir that is the citygate user's, opened by someone else", () => {
  // Root reads every file: as root, the CLI runs without the capabilities that let it
  // (setpriv from util-linux); as anyone else, the folder is made unreadable.
  const asOther = (args: string[]): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const root = process.getuid?.() === 0;
      const argv = root ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
      const p = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('exit', (code) => resolve({ code, out }));
    });

  it('queue stats, export and purge: permission denied, run as the citygate user — exit 1, no stack trace', async () => {
    const d = tempDir('cg-perm-');
    const data = join(d, 'data');
    const cfg = join(d, 'gateway.yaml');
    writeFileSync(cfg, stringify({ gateway: { id: 'perm-gw', data_dir: data }, uplink: { url: 'mqtt://127.0.0.1:9' }, devices: [{ id: 't', driver: 'sim', points: [{ name: 'a' }] }] }));
    mkdirSync(data);
    writeFileSync(join(data, 'buffer.db'), '');
    if (process.getuid?.() === 0) chownSync(data, 65534, 65534);
    chmodSync(data, process.getuid?.() === 0 ? 0o700 : 0o000);
    try {
      for (const cmd of ['stats', 'export', 'purge']) {
        const r = await asOther(['queue', cmd, '--config', cfg]);
        expect(r.out, cmd).not.toMatch(STACK);
        expect({ code: r.code, out: r.out }, cmd).toEqual({ code: 1, out: expect.stringMatching(/cannot open .*data\/(buffer\.db|gateway\.lock): permission denied — run this as the citygate user/) });
      }
    } finally {
      chmodSync(data, 0o700);
    }
  }, 60_000);
});

describe('closed pipes and Ctrl-C', () => {
  let silent: Server;
  let silentPort: number;
  beforeAll(async () => {
    // Accepts connections and never answers: a PLC whose Modbus task hangs.
    silent = createServer(() => undefined);
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    silentPort = (silent.address() as AddressInfo).port;
  });
  afterAll(() => silent.close());

  it('schema | head -c 100: the reader going away is not an error', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'schema'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.stdout.once('data', () => p.stdout.destroy());
      p.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(r.stderr).not.toMatch(STACK);
    expect([0, 1, 2]).toContain(r.code);
  }, 120_000);

  it('Ctrl-C during a Modbus scan prints what was found and exits 130', async () => {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'probe', 'modbus', 'scan', '--host', '127.0.0.1', '--port', String(silentPort), '--timeout', '100ms'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('scanning')) setTimeout(() => p.kill('SIGINT'), 500);
      });
      p.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stdout + r.stderr).not.toMatch(STACK);
    expect(r.stdout).toMatch(/scan interrupted after [\d.]+s\nno unit answered on 127\.0\.0\.1:\d+ \(so far\)\n$/);
    expect(r.code).toBe(130);
  }, 120_000);
});

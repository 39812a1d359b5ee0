/**
 * `citygate validate` as a person runs it: one broken file (even an alias bomb or an
 * unusable URL) never stops the others being checked; exit 1, never 2, for any mistake
 * in a config; `--strict` turns warnings into errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STACK, runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cg-validate-'));
const file = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const sim = 'devices:\n  - { id: t, driver: sim, points: [ { name: a } ] }\n';

describe('citygate validate', () => {
  it('checks every file even after an alias bomb and a bad URL; exit 1', async () => {
    const bomb = file('bomb.yaml', 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n');
    const url = file('url.yaml', 'gateway: { id: g }\nuplink: { url: "mqtts://broker.example:99999" }\n' + sim);
    const floors = file('floors.yaml', 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", reconnect: { min: 0ms, max: 0ms } }\n' + sim);
    const r = await runCli(['validate', bomb, url, floors, 'boards/demo.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${bomb}:2:8: YAML aliases`);
    expect(r.stdout).toContain(`${url}:2:16: uplink.url: port 99999 is out of range (1-65535)`);
    expect(r.stdout).toContain(`${floors}:2:52: uplink.reconnect.min: must be at least 100ms`);
    expect(r.stdout).toMatch(/^boards\/demo\.yaml: ok/m);
    expect(r.stderr).toContain('3 of 4 files failed validation');
    expect(r.stdout + r.stderr).not.toMatch(STACK);
  }, 120_000);

  it('- reads standard input, named <stdin>, beside files; an empty config is one line saying so', async () => {
    const mixed = await runCli(['validate', '-', 'boards/demo.yaml'], { input: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883" }\ndevices:\n  - { id: b, driver: gpio, pin: 17 }\n' });
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toContain('<stdin>:4:5: devices[0].mode: missing required key "mode"');
    expect(mixed.stdout).toMatch(/^boards\/demo\.yaml: ok/m);
    const ok = await runCli(['validate', '-'], { input: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883" }\n' + sim });
    expect({ code: ok.code, out: ok.stdout }).toEqual({ code: 0, out: expect.stringMatching(/^<stdin>: ok — gateway g/) });
    const empty = await runCli(['validate', '-'], { input: '# nothing yet\n' });
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe('<stdin>:1:1: this config is empty (or only comments): it needs gateway:, uplink: and devices: — start from a file in boards/ (boards/demo.yaml runs without hardware)\n<stdin>: 1 problem\n');
    const big = await runCli(['validate', '-'], { input: `# ${'x'.repeat(1_200_000)}\n` });
    expect(big.code).toBe(1);
    expect(big.stdout).toContain('<stdin>: more than the 1 MiB a gateway config may be');
    for (const r of [mixed, ok, empty, big]) expect(r.stdout + r.stderr).not.toMatch(STACK);
  });

  it('warnings pass, --strict makes them errors', async () => {
    const warn = file('warn.yaml', 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883" }\ndevices:\n  - { id: pm, driver: serial, port: /dev/ttyAMA0, protocol: pms5003 }\n');
    const plain = await runCli(['validate', warn]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/warn\.yaml:4:\d+: devices\[0\]\.port: .*\/dev\/serial0.* \(warning\)/);
    expect(plain.stdout).toMatch(/ok — gateway g, 1 device .*; 1 warning/);
    const strict = await runCli(['validate', '--strict', warn]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/\(error \(--strict\)\)/);
    expect(strict.stdout).toContain('warn.yaml: 1 problem');
  }, 120_000);

  it('a directory, an unreadable path and unset variables', async () => {
    const env = file('env.yaml', 'gateway: { id: ${GW_ID} }\nuplink: { url: "mqtts://b:8883" }\n' + sim);
    const r = await runCli(['validate', dir, env], { env: { GW_ID: '' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${dir}: cannot read (it is a directory)`);
    expect(r.stdout).toMatch(/env\.yaml:1:16: environment variable GW_ID is not set .*\(warning\)/);
    expect(r.stdout).toContain('env.yaml: no errors found, but fields with unset ${ENV} variables could not be checked');
    expect(r.stderr).toContain('1 of 2 files failed validation');
  }, 120_000);

  it('plain mqtt:// beyond loopback: an error in validate and in run alike, unless allow_insecure', async () => {
    const plain = file('plain.yaml', `gateway: { id: g, data_dir: ${JSON.stringify(dir)} }\nuplink: { url: "mqtt://10.20.30.40:1883" }\n` + sim);
    const line = `${plain}:2:16: uplink.url: mqtt:// to 10.20.30.40 would send city data and credentials unencrypted — use mqtts:// or wss://, or set uplink.allow_insecure: true on a closed network`;
    const v = await runCli(['validate', plain]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(line);
    const run = await runCli(['run', '--config', plain], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(line);
    expect(run.stderr).not.toMatch(STACK);
    const allowed = file('allowed.yaml', `gateway: { id: g }\nuplink: { url: "mqtt://10.20.30.40:1883", allow_insecure: true }\n` + sim);
    const ok = await runCli(['validate', allowed]);
    expect(ok.code).toBe(0);
  }, 60_000);
});

/**
 * The mistakes integrators really make, each as `file:line:col: path: message` that
 * names the fix; the silent ones as errors or warnings in plain `validate`. One case per
 * mistake: the YAML, where the problem must be reported, and words the message must hold.
 */
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { formatIssue } from '../../../src/config/issues.js';

const head = 'gateway: { id: gw-1 }\nuplink: { url: "mqtts://b.example:8883" }\n';
const sim = 'devices:\n  - { id: t, driver: sim, points: [ { name: a } ] }\n';
const rtu = 'buses:\n  rs485: { type: modbus-rtu, port: /dev/ttyUSB0 }\n';

function check(text: string, env: NodeJS.ProcessEnv = {}) {
  const r = checkConfigText(text, 'g.yaml', { env, missingEnv: 'warn' });
  return { ...r, errors: r.issues.map(formatIssue), warns: r.warnings.map(formatIssue) };
}

interface Case {
  name: string;
  yaml: string;
  /** `line:col: path:` prefix expected (after "g.yaml:"), and a fragment of the message. */
  error?: [string, string];
  warning?: [string, string];
}

const cases: Case[] = [
  // Floors: settings that would spin the CPU or starve the buffer.
  { name: 'reconnect.min 0ms', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", reconnect: { min: 0ms } }\n' + sim, error: ['2:52: uplink.reconnect.min:', 'at least 100ms'] },
  { name: 'reconnect.max 0ms', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", reconnect: { max: 0ms } }\n' + sim, error: ['2:52: uplink.reconnect.max:', 'at least 100ms'] },
  { name: 'reconnect min > max', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", reconnect: { min: 5m, max: 1m } }\n' + sim, error: ['2:', 'reconnect.min is longer than reconnect.max'] },
  { name: 'ack_timeout 0', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", ack_timeout: 0ms }\n' + sim, error: ['2:47: uplink.ack_timeout:', 'at least 100ms'] },
  { name: 'keepalive 0', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", keepalive: 0s }\n' + sim, error: ['2:45: uplink.keepalive:', 'at least 1s'] },
  { name: 'health.interval 0', yaml: head + 'health: { interval: 0s }\n' + sim, error: ['3:21: health.interval:', 'at least 100ms'] },
  { name: 'max_bytes "0"', yaml: head + 'buffer: { max_bytes: "0" }\n' + sim, error: ['3:22: buffer.max_bytes:', 'at least 1MiB'] },
  { name: 'max_bytes 0B', yaml: head + 'buffer: { max_bytes: 0B }\n' + sim, error: ['3:22: buffer.max_bytes:', 'at least 1MiB'] },
  // Broker URLs that Node cannot use: an error with a position, not a crash.
  { name: 'port 99999', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://broker.example:99999" }\n' + sim, error: ['2:16: uplink.url:', 'port 99999 is out of range (1-65535)'] },
  { name: 'port :88a3', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://broker.example:88a3" }\n' + sim, error: ['2:16: uplink.url:', 'port "88a3" is not a number'] },
  { name: 'no host', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://:8883" }\n' + sim, error: ['2:16: uplink.url:', 'no host name'] },
  { name: 'unclosed IPv6', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://[fe80::1" }\n' + sim, error: ['2:16: uplink.url:', 'unclosed "["'] },
  { name: 'tls with mqtt://', yaml: 'gateway: { id: g }\nuplink: { url: "mqtt://127.0.0.1:1883", tls: { ca: /etc/ca.pem } }\n' + sim, error: ['2:', 'use mqtts:// to connect with TLS'] },
  // Several brokers: each URL is checked where it is written.
  { name: 'bad second broker URL', yaml: 'gateway: { id: g }\nuplink:\n  url:\n    - "mqtts://a.example:8883"\n    - "mqtts://b.example:99999"\n' + sim, error: ['5:7: uplink.url[1]:', 'port 99999 is out of range'] },
  { name: 'empty broker list', yaml: 'gateway: { id: g }\nuplink: { url: [] }\n' + sim, error: ['2:16: uplink.url:', 'at least one broker URL'] },
  { name: 'broker URL a number', yaml: 'gateway: { id: g }\nuplink: { url: 1883 }\n' + sim, error: ['2:16: uplink.url:', 'or a list of them, got 1883'] },
  { name: 'plain second broker', yaml: 'gateway: { id: g }\nuplink: { url: ["mqtts://a.example:8883", "mqtt://b.example:1883"] }\n' + sim, error: ['2:43: uplink.url[1]:', 'unencrypted — use mqtts:// or wss://, or set uplink.allow_insecure: true'] },
  { name: 'reconnect.probe 100ms', yaml: 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", reconnect: { probe: 100ms } }\n' + sim, error: ['2:54: uplink.reconnect.probe:', 'at least 1s'] },
  // Status page address.
  { name: 'http: 8787', yaml: head + 'health: { http: 8787 }\n' + sim, error: ['3:17: health.http:', 'write "127.0.0.1:8787"'] },
  { name: 'http port 99999', yaml: head + 'health: { http: "127.0.0.1:99999" }\n' + sim, error: ['3:17: health.http:', 'out of range'] },
  // Library jargon replaced by what to write.
  { name: 'buses as a list', yaml: head + 'buses:\n  - { type: modbus-tcp, host: plc }\n' + sim, error: ['4:3: buses:', 'expected a map of names to settings, got a list — drop the "- "'] },
  { name: 'duplicate key names the key', yaml: head + 'buffer: { max_age: 1d }\nbuffer: { max_age: 2d }\n' + sim, error: ['4:1:', 'key "buffer" appears twice in the same map (first on line 3)'] },
  { name: 'word_order: CDAB', yaml: head + 'buses: { plc: { type: modbus-tcp, host: plc } }\ndevices:\n  - { id: m, driver: modbus, bus: plc, points: [ { name: v, table: holding, address: 0, type: float32, word_order: CDAB } ] }\n', error: ['5:', 'write order: CDAB, or word_order: little'] },
  { name: 'host with port', yaml: head + 'buses: { plc: { type: modbus-tcp, host: "10.0.0.5:502" } }\n' + sim, error: ['3:', 'write host: 10.0.0.5 and port: 502'] },
  { name: 'reversed valid_range', yaml: head + 'devices:\n  - { id: t, driver: sim, points: [ { name: a, valid_range: [10, 5] } ] }\n', error: ['4:', 'is reversed'] },
  // Modbus RTU units and manual-style addresses.
  { name: 'RTU without unit', yaml: head + rtu + 'devices:\n  - { id: m, driver: modbus, bus: rs485, points: [ { name: v, table: input, address: 0 } ] }\n', error: ['6:5: devices[0].unit:', 'unit is required on RTU bus "rs485"'] },
  { name: 'RTU unit 0', yaml: head + rtu + 'devices:\n  - { id: m, driver: modbus, bus: rs485, unit: 0, points: [ { name: v, table: input, address: 0 } ] }\n', error: ['6:48: devices[0].unit:', 'broadcast'] },
  { name: 'RTU unit 248', yaml: head + rtu + 'devices:\n  - { id: m, driver: modbus, bus: rs485, unit: 248, points: [ { name: v, table: input, address: 0 } ] }\n', error: ['6:48: devices[0].unit:', 'not an RTU slave address'] },
  { name: 'address 30001', yaml: head + rtu + 'devices:\n  - { id: m, driver: modbus, bus: rs485, unit: 1, points: [ { name: v, table: input, address: 30001 } ] }\n', warning: ['6:', 'write address: 0 (the protocol address)'] },
  { name: 'address 40001', yaml: head + rtu + 'devices:\n  - { id: m, driver: modbus, bus: rs485, unit: 1, points: [ { name: v, table: holding, address: 40011 } ] }\n', warning: ['6:', 'holding register 11'] },
  // Pins and ports.
  { name: 'GPIO 40 (header numbering)', yaml: head + 'devices:\n  - { id: b, driver: gpio, pin: 40, mode: input }\n', warning: ['4:', 'write pin: 21'] },
  { name: 'GPIO 11 (header pin 11 is GPIO17)', yaml: head + 'devices:\n  - { id: b, driver: gpio, pin: 11, mode: input }\n', warning: ['4:', 'write pin: 17'] },
  { name: 'Firmata pin 1', yaml: head + 'devices:\n  - { id: u, driver: firmata, port: /dev/ttyACM0, points: [ { name: s, pin: 1 } ] }\n', error: ['4:', "serial TX"] },
  { name: 'Firmata A16', yaml: head + 'devices:\n  - { id: u, driver: firmata, port: /dev/ttyACM0, points: [ { name: s, pin: A16 } ] }\n', error: ['4:', 'A16 does not exist'] },
  { name: '/dev/ttyAMA0', yaml: head + 'devices:\n  - { id: pm, driver: serial, port: /dev/ttyAMA0, protocol: pms5003 }\n', warning: ['4:', '/dev/serial0'] },
  { name: 'no devices', yaml: head, warning: ['1:1:', 'no devices are configured'] },
  { name: 'data_dir under /proc', yaml: 'gateway: { id: g, data_dir: /proc/citygate }\nuplink: { url: "mqtts://b:8883" }\n' + sim, error: ['1:29: gateway.data_dir:', "/proc, /sys and /dev are the kernel's, not a place for data"] },
  // A key that chooses among fixed values, left out: named as missing, with the choices.
  { name: 'gpio without mode', yaml: head + 'devices:\n  - { id: b, driver: gpio, pin: 17 }\n', error: ['4:5: devices[0].mode:', 'missing required key "mode" — expected one of: "input", "counter", "output"'] },
  { name: 'modbus point without table', yaml: head + rtu + 'devices:\n  - { id: m, driver: modbus, bus: rs485, unit: 1, points: [ { name: v, address: 0 } ] }\n', error: ['6:', 'missing required key "table" — expected one of: "coil"'] },
];

describe('mistakes integrators make', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = check(c.yaml);
      if (c.error) {
        const hit = r.errors.find((e) => e.startsWith(`g.yaml:${c.error?.[0]}`) && e.includes(c.error?.[1] ?? ''));
        expect(hit, `errors were:\n${r.errors.join('\n')}`).toBeDefined();
        expect(r.config).toBeUndefined();
      }
      if (c.warning) {
        const hit = r.warns.find((e) => e.startsWith(`g.yaml:${c.warning?.[0]}`) && e.includes(c.warning?.[1] ?? ''));
        expect(hit, `warnings were:\n${r.warns.join('\n')}\nerrors:\n${r.errors.join('\n')}`).toBeDefined();
        expect(r.errors).toEqual([]);
      }
    });
  }
});

describe('YAML-level failures', () => {
  it('an alias bomb is a file:line problem, not a crash', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    const r = check(bomb);
    expect(r.errors).toEqual([expect.stringMatching(/^g\.yaml:2:8: YAML aliases .*alias bomb/)]);
  });

  it('a binary file given by mistake: one line saying so, not its bytes echoed back', () => {
    const elf = `\u007fELF\u0002\u0001\u0001\u0000\u0000${'\u0000x'.repeat(100)}`;
    const r = check(elf);
    expect(r.errors).toEqual(['g.yaml:1:8: this is not a text file (it holds NUL bytes) — a gateway config is YAML text: is it the right file?']);
    expect(r.warns).toEqual([]);
  });

  it('a file saved as Latin-1 (° as the byte 0xB0): where, and to save it as UTF-8 — not "�C" published', () => {
    const latin1 = Buffer.from(`${head}devices:\n  - { id: t, driver: sim, points: [ { name: a, unit: \u00b0C } ] }\n`, 'latin1');
    const r = check(latin1.toString('utf8'));
    expect(r.errors).toEqual([expect.stringMatching(/^g\.yaml:4:54: this is not UTF-8 .*Latin-1.* — save the file as UTF-8$/)]);
  });

  it('a byte-order mark is not counted as a column of line 1', () => {
    const r = check(`\ufeffgateway: { id: g, poll: 1s }\nuplink: { url: "mqtts://b:8883" }\n${sim}`);
    expect(r.errors).toEqual([expect.stringMatching(/^g\.yaml:1:19: gateway\.poll: unknown key "poll"/)]);
  });

  it('a long string in the wrong place is cut in the message', () => {
    const r = check(`${head}buffer: ${'x'.repeat(500)}\n${sim}`);
    expect(r.errors).toEqual([`g.yaml:3:9: buffer: expected a map of key: value, got "${'x'.repeat(60)}"… (500 characters)`]);
  });

  it('merge keys work, with anchors kept under an x- key', () => {
    const r = check(head + 'x-sim: &base { driver: sim, poll: 5s }\ndevices:\n  - <<: *base\n    id: t\n    points: [ { name: a } ]\n');
    expect(r.errors).toEqual([]);
    expect(r.config?.devices[0]).toMatchObject({ id: 't', driver: 'sim', poll: 5000 });
  });

  it('cross-file problems are reported together with schema errors', () => {
    const r = check(head + 'devices:\n  - { id: m, driver: modbus, bus: nosuch, unit: 1, poll: fast, points: [ { name: v, table: holding, address: 0 } ] }\n  - { id: m, driver: sim, points: [ { name: a } ] }\n');
    expect(r.errors).toEqual([
      expect.stringMatching(/^g\.yaml:4:\d+: devices\[0\]\.bus: bus "nosuch" is not defined — add it under buses:/),
      expect.stringMatching(/^g\.yaml:4:\d+: devices\[0\]\.poll: expected a duration/),
      expect.stringMatching(/^g\.yaml:5:\d+: devices\[1\]\.id: duplicate device id "m"/),
    ]);
  });
});

describe('${ENV} values take the type of their field', () => {
  it('numbers and booleans from the environment or a fallback', () => {
    const r = check(head + 'buses:\n  plc: { type: modbus-tcp, host: plc, port: "${PLC_PORT:-1502}" }\nhealth: { http: "${HTTP:-false}" }\n' + sim + 'x-: 1\n', {});
    expect(r.errors).toEqual([]);
    expect(r.config?.buses.plc).toMatchObject({ port: 1502 });
    expect(r.config?.health.http).toBe(false);
    const set = check(head + 'buses:\n  plc: { type: modbus-tcp, host: plc, port: ${PLC_PORT} }\n' + sim, { PLC_PORT: '5020' });
    expect(set.config?.buses.plc).toMatchObject({ port: 5020 });
  });

  it('an out-of-range number is an error that does not echo the variable', () => {
    const r = check(head + 'buses:\n  plc: { type: modbus-tcp, host: plc, port: ${PLC_PORT} }\n' + sim, { PLC_PORT: '99999' });
    expect(r.errors).toEqual([expect.stringMatching(/^g\.yaml:\d+:\d+: buses\.plc\.port: /)]);
    expect(r.errors.join('\n')).not.toContain('99999');
  });

  it('a field that is neither a credential nor an address does not resolve ${ENV}: an error naming where it may', () => {
    const r = check(head + 'buses:\n  rs485: { type: modbus-rtu, port: /dev/ttyUSB0, baud: ${BAUD} }\n' + sim, { BAUD: '19200' });
    expect(r.errors).toEqual([
      expect.stringMatching(/^g\.yaml:4:56: buses\.rs485\.baud: \$\{BAUD\} is not resolved here — \$\{ENV\} and !secret resolve only in credential and address fields \(.*uplink\.password.*\)/),
    ]);
  });

  it('an unset variable is a warning only, in unquoted flow style too', () => {
    const r = check('gateway: { id: ${GATEWAY_ID} }\nuplink: { url: "mqtts://b:8883" }\n' + rtu.replace('/dev/ttyUSB0', '${RS485_PORT}') + sim);
    expect(r.errors).toEqual([]);
    expect(r.warns).toEqual([
      expect.stringMatching(/^g\.yaml:1:16: environment variable GATEWAY_ID is not set/),
      expect.stringMatching(/^g\.yaml:4:\d+: environment variable RS485_PORT is not set/),
    ]);
  });

  it('flow style with a set variable and a fallback holding YAML syntax', () => {
    const r = check('gateway: { id: ${GATEWAY_ID}, data_dir: ${DIR:-/var/lib/cg,x} }\nuplink: { url: ${URL:-mqtts://b:8883} }\n' + sim, { GATEWAY_ID: 'pole-7' });
    expect(r.errors).toEqual([]);
    expect(r.config?.gateway).toEqual({ id: 'pole-7', data_dir: '/var/lib/cg,x' });
  });
});

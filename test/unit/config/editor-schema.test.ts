/**
 * What an editor sees agrees with `citygate validate`. The JSON Schema in boards/ is
 * checked with an independent validator (ajv 8 + ajv-formats, as editors use it) on
 * the same corpus `validate` gets: every board, every golden and driver testcase, and
 * the `${ENV}`, merge-key and mistake cases below. Any disagreement fails the test
 * unless it is listed in EXPECTED with the reason JSON Schema cannot say it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';

const root = join(import.meta.dirname, '../../..');
const schemaFile = join(root, 'boards/citygate.schema.json');
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validateSchema = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);

/** The editor's view of a file: YAML 1.2 with merge keys, !secret as a plain string. */
function editorAccepts(text: string): boolean {
  const doc = parseDocument(text, { merge: true, customTags: [{ tag: '!secret', resolve: (s: string) => s }] });
  if (doc.errors.length) return false; // the editor shows the YAML error too
  let data: unknown;
  try {
    data = doc.toJS();
  } catch {
    return false; // an alias with no anchor: the editor's YAML layer flags it
  }
  return validateSchema(data) as boolean;
}

function validateAccepts(text: string, file: string): boolean {
  const r = checkConfigText(text, file, { env: { MQTT_PASSWORD: 'pw-for-tests' }, missingEnv: 'warn' });
  return r.issues.length === 0;
}

const dirs = ['boards', 'test/golden', ...readdirSync(join(root, 'src/drivers')).map((d) => `src/drivers/${d}/testcases`)];
const files = dirs
  .map((d) => join(root, d))
  .filter(existsSync)
  .flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml') && f !== 'secrets.yaml').map((f) => join(d, f)));

const head = 'gateway: { id: gw-1 }\nuplink: { url: "mqtts://b.example:8883" }\n';
const sim = 'devices:\n  - { id: t, driver: sim, points: [ { name: a } ] }\n';
const inline: Record<string, string> = {
  'env: typed fields': head + 'buses:\n  rs485: { type: modbus-rtu, port: "${PORT:-/dev/ttyUSB1}" }\n  plc: { type: modbus-tcp, host: "${PLC_HOST:-plc}", port: "${PLC_PORT:-502}" }\n' + sim,
  'env: not in a plain field': head + 'buses:\n  rs485: { type: modbus-rtu, port: /dev/ttyUSB1, baud: "${BAUD:-9600}" }\n' + sim,
  'env: url with a fallback': 'gateway: { id: gw-1 }\nuplink: { url: "${BROKER_URL:-mqtts://b.example:8883}" }\n' + sim,
  'env: serial port': head + 'devices:\n  - { id: gps, driver: serial, port: "${GPS_PORT:-/dev/ttyUSB1}", protocol: nmea }\n',
  'merge keys with an x- anchor': head + 'x-sim: &base { driver: sim, poll: 5s }\ndevices:\n  - <<: *base\n    id: t\n    points: [ { name: a } ]\n',
  'floor: reconnect 0ms': 'gateway: { id: g }\nuplink: { url: "mqtts://b:8883", reconnect: { min: 0ms } }\n' + sim,
  'modbus: bit with float32': head + 'buses: { plc: { type: modbus-tcp, host: plc } }\ndevices:\n  - { id: m, driver: modbus, bus: plc, points: [ { name: v, table: holding, address: 0, type: float32, bit: 3 } ] }\n',
  'modbus: writable input': head + 'buses: { plc: { type: modbus-tcp, host: plc } }\ndevices:\n  - { id: m, driver: modbus, bus: plc, points: [ { name: v, table: input, address: 0, writable: true } ] }\n',
  'modbus: string without length': head + 'buses: { plc: { type: modbus-tcp, host: plc } }\ndevices:\n  - { id: m, driver: modbus, bus: plc, points: [ { name: v, table: holding, address: 0, type: string } ] }\n',
  'gpio: scale on an input': head + 'devices:\n  - { id: b, driver: gpio, pin: 17, mode: input, scale: 2 }\n',
  'serial: regex without named groups': head + 'devices:\n  - { id: l, driver: serial, port: /dev/ttyUSB0, protocol: lines, regex: "^T=(\\\\d+)" }\n',
  'sim: min above max': head + 'devices:\n  - { id: t, driver: sim, points: [ { name: a, min: 10, max: 5 } ] }\n',
  'modbus: RTU device without unit': head + 'buses: { rs485: { type: modbus-rtu, port: /dev/ttyUSB0 } }\ndevices:\n  - { id: m, driver: modbus, bus: rs485, points: [ { name: v, table: input, address: 0 } ] }\n',
  'uplink: port out of range': 'gateway: { id: g }\nuplink: { url: "mqtts://b.example:99999" }\n' + sim,
  'health: port out of range': head + 'health: { http: "127.0.0.1:99999" }\n' + sim,
  'tls with mqtt://': 'gateway: { id: g }\nuplink: { url: "mqtt://127.0.0.1:1883", tls: { ca: /etc/ca.pem } }\n' + sim,
};

/**
 * Disagreements JSON Schema cannot avoid, with the reason. `validate` rejects these; the
 * editor accepts them (or the reverse, marked so).
 */
const EXPECTED: Record<string, string> = {
  'floor: reconnect 0ms': 'durations are strings in JSON Schema: a minimum of 100ms needs arithmetic on units',
  'serial: regex without named groups': 'whether a regex compiles and has named groups is beyond JSON Schema',
  'sim: min above max': 'JSON Schema cannot compare two values',
  'modbus: RTU device without unit': 'the rule depends on the type of the bus the device names, elsewhere in the file',
};
const EXPECTED_PATTERNS: [RegExp, string][] = [
  [/cross-field|invalid-port-shared|invalid-pin-twice|invalid-port-twice|invalid-wiring|modbus-overlap|modbus-bus-overload|health-open-without-auth/, 'duplicate ids, claimed ports and bus references span the file: JSON Schema checks one value at a time'],
];

describe('editor schema', () => {
  it('every board names a schema file that exists', () => {
    for (const f of files.filter((f) => f.includes('/boards/'))) {
      const first = readFileSync(f, 'utf8').split('\n')[0] ?? '';
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(m, `${relative(root, f)} must start with a yaml-language-server $schema line`).not.toBeNull();
      expect(resolve(dirname(f), m?.[1] ?? ''), relative(root, f)).toBe(schemaFile);
    }
  });

  it('ajv accepts every board and every valid testcase', () => {
    const valid = files.filter((f) => f.includes('/boards/') || /\/valid-[^/]*\.yaml$/.test(f));
    expect(valid.length).toBeGreaterThan(15);
    for (const f of valid) {
      expect(editorAccepts(readFileSync(f, 'utf8')), `${relative(root, f)}: ${ajv.errorsText(validateSchema.errors)}`).toBe(true);
    }
  });

  const corpus: [string, string][] = [...files.map((f): [string, string] => [relative(root, f), readFileSync(f, 'utf8')]), ...Object.entries(inline)];
  for (const [name, text] of corpus) {
    it(`agrees with validate: ${name}`, () => {
      const editor = editorAccepts(text);
      const cli = validateAccepts(text, name);
      const reason = EXPECTED[name] ?? EXPECTED_PATTERNS.find(([re]) => re.test(name))?.[1];
      if (reason) {
        expect(editor === cli, `${name} is listed as a known disagreement (${reason}) but now agrees: remove it from the list`).toBe(false);
      } else {
        expect({ editor, validate: cli }, `${name}: ${ajv.errorsText(validateSchema.errors)}`).toEqual({ editor: cli, validate: cli });
      }
    });
  }
});

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigText, loadConfigFile } from '../../../src/config/load.js';
import { formatIssue } from '../../../src/config/issues.js';
import { ConfigError } from '../../../src/config/issues.js';

const base = (uplink: string) => `gateway: { id: gw-1 }\nuplink:\n${uplink}\n`;

function dirWith(config: string, secrets?: { text: string; mode: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cg-cfg-'));
  writeFileSync(join(dir, 'gateway.yaml'), config);
  if (secrets) {
    writeFileSync(join(dir, 'secrets.yaml'), secrets.text);
    chmodSync(join(dir, 'secrets.yaml'), secrets.mode);
  }
  return join(dir, 'gateway.yaml');
}

describe('${ENV} substitution', () => {
  it('substitutes, falls back, and escapes', () => {
    const text = base('  url: mqtts://${BROKER}:8883\n  username: ${USER_NAME:-gw-default}\n  password: ${PW}\n  topic_root: lit/$${NOT}');
    const r = checkConfigText(text, 'g.yaml', { env: { BROKER: 'broker.example', PW: 's3cret-pw' } });
    expect(r.issues).toEqual([]);
    expect(r.config?.uplink).toMatchObject({ url: 'mqtts://broker.example:8883', username: 'gw-default', password: 's3cret-pw', topic_root: 'lit/${NOT}' });
  });

  it('an unset variable is an error for run, a warning for validate, with its position', () => {
    const text = base('  url: mqtts://broker.example:8883\n  password: ${MQTT_PASSWORD}');
    const run = checkConfigText(text, 'g.yaml', { env: {}, missingEnv: 'error' });
    expect(run.issues.map(formatIssue)).toEqual(['g.yaml:4:13: environment variable MQTT_PASSWORD is not set (${MQTT_PASSWORD})']);
    const validate = checkConfigText(text, 'g.yaml', { env: {}, missingEnv: 'warn' });
    expect(validate.config).toBeDefined();
    expect(validate.warnings.filter((w) => w.message.includes('MQTT_PASSWORD'))).toHaveLength(1);
  });

  it('never echoes a substituted value in an error', () => {
    const text = 'gateway: { id: "${GW_ID}" }\nuplink: { url: mqtts://b.example:8883 }\n';
    const r = checkConfigText(text, 'g.yaml', { env: { GW_ID: 'Top Secret Value' } });
    const lines = r.issues.map(formatIssue).join('\n');
    expect(lines).toContain('gateway.id');
    expect(lines).not.toContain('Top Secret Value');
    expect(lines).toContain('[redacted]');
  });
});

describe('!secret', () => {
  it('reads secrets.yaml beside the config when only the owner can read it', () => {
    const file = dirWith(base('  url: mqtts://b.example:8883\n  password: !secret mqtt_password'), { text: 'mqtt_password: "p@ss word"\n', mode: 0o600 });
    expect(loadConfigFile(file).config.uplink.password).toBe('p@ss word');
  });

  it('refuses a secrets file others can read, saying how to fix it', () => {
    const file = dirWith(base('  url: mqtts://b.example:8883\n  password: !secret mqtt_password'), { text: 'mqtt_password: x\n', mode: 0o644 });
    let err: unknown;
    try {
      loadConfigFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const details = (err as ConfigError).details.join('\n');
    expect(details).toMatch(/gateway\.yaml:4:21: .*secrets\.yaml can be read by other users \(mode 644\) — run: chmod 600 /);
  });

  it('names a missing secret and a missing file', () => {
    const missingKey = dirWith(base('  url: mqtts://b.example:8883\n  password: !secret nope'), { text: 'other: x\n', mode: 0o600 });
    expect(() => loadConfigFile(missingKey)).toThrow(ConfigError);
    const r = checkConfigText(base('  url: mqtts://b.example:8883\n  password: !secret nope'), join(tmpdir(), 'nowhere', 'g.yaml'));
    expect(r.issues[0]?.message).toMatch(/needs .*secrets\.yaml .* which does not exist/);
  });
});

describe('loadConfigFile', () => {
  it('says plainly when the file is missing', () => {
    expect(() => loadConfigFile('/nonexistent/gateway.yaml')).toThrow('config file /nonexistent/gateway.yaml does not exist');
  });
});

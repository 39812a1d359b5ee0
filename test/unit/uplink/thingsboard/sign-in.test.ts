/**
 * How a ThingsBoard gateway signs in: the access token is the MQTT user name (no password),
 * no will (ThingsBoard tracks the session itself), and the token is a credential: `${ENV}`
 * and `!secret` resolve in it, and no message from validate names its value.
 */
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../../src/config/load.js';
import { formatIssue } from '../../../../src/config/issues.js';
import { clientOptions } from '../../../../src/uplink/client-options.js';
import { Topics } from '../../../../src/uplink/topics.js';
import { ThingsboardDialect } from '../../../../src/uplink/dialects/thingsboard.js';

const yaml = (uplink: string) => `gateway: { id: gw-1 }\nuplink: { url: "mqtts://tb.example:8883", dialect: thingsboard${uplink} }\ndevices:\n  - { id: t, driver: sim, points: [ { name: a } ] }\n`;

describe('signing in to ThingsBoard', () => {
  it('the access token from the environment is the MQTT user name, with no password and no will', () => {
    const r = checkConfigText(yaml(', thingsboard: { access_token: "${TB_TOKEN}" }'), 'g.yaml', { env: { TB_TOKEN: 'A1b2C3token' } });
    expect(r.issues.map(formatIssue)).toEqual([]);
    const cfg = r.config;
    if (!cfg) throw new Error('no config');
    const dialect = new ThingsboardDialect({ gatewayId: 'gw-1', version: '1', startedAt: 0, deviceName: '{device}', deviceStates: () => ({}) });
    const opts = clientOptions(cfg.uplink, 'gw-1', Topics.forGateway('gw-1'), undefined, 4, dialect.will() ?? null);
    expect(opts.username).toBe('A1b2C3token');
    expect(opts.password).toBeUndefined();
    expect(opts.will).toBeUndefined();
  });

  it('a literal-looking token in a message is never echoed: errors name the key, not the value', () => {
    const r = checkConfigText(yaml(', username: someone, thingsboard: { access_token: "${TB_TOKEN}" }'), 'g.yaml', { env: { TB_TOKEN: 'S3cretTokenValue' } });
    const text = r.issues.map(formatIssue).join('\n');
    expect(text).toMatch(/g\.yaml:2:\d+: uplink\.username: .*access_token or uplink\.username/);
    expect(text).not.toContain('S3cretTokenValue');
  });
});

/**
 * `uplink.dialect` and its sections: each mistake is a `file:line:col` error naming the fix.
 */
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../../../src/config/load.js';
import { formatIssue } from '../../../src/config/issues.js';

const sim = 'devices:\n  - { id: t, driver: sim, points: [ { name: a } ] }\n';

function check(uplinkExtra: string) {
  const r = checkConfigText(`gateway: { id: gw-1 }\nuplink: { url: "mqtts://b.example:8883"${uplinkExtra} }\n${sim}`, 'g.yaml', { env: {}, missingEnv: 'warn' });
  return { config: r.config, errors: r.issues.map(formatIssue) };
}

describe('uplink.dialect', () => {
  it('defaults to citygate', () => {
    expect(check('').config?.uplink.dialect).toBe('citygate');
  });

  it('sparkplug with its section validates; edge_node_id and primary_host are optional', () => {
    const r = check(', dialect: sparkplug, sparkplug: { group_id: City.North }');
    expect(r.errors).toEqual([]);
    expect(r.config?.uplink.sparkplug).toEqual({ group_id: 'City.North' });
  });

  it('thingsboard needs no section; device_name defaults to {gateway}.{device}', () => {
    expect(check(', dialect: thingsboard')).toMatchObject({ errors: [] });
    expect(check(', dialect: thingsboard, thingsboard: { access_token: abc }').config?.uplink.thingsboard).toEqual({ access_token: 'abc', device_name: '{gateway}.{device}' });
  });

  it.each([
    ['an unknown dialect', ', dialect: opcua', /uplink\.dialect:.*citygate.*sparkplug.*thingsboard/],
    ['a thingsboard section under citygate', ', thingsboard: { device_name: "{device}" }', /uplink\.thingsboard applies to dialect: thingsboard only/],
    ['a topic root with thingsboard', ', dialect: thingsboard, topic_root: city/x', /topic_root does not apply to dialect: thingsboard/],
    ['an access token and a user name', ', dialect: thingsboard, username: u, thingsboard: { access_token: t }', /give uplink.thingsboard.access_token or uplink.username/],
    ['compact encoding with thingsboard', ', dialect: thingsboard, encoding: compact', /encoding: compact is citygate's own data format/],
    ['a device name that cannot tell devices apart', ', dialect: thingsboard, thingsboard: { device_name: "{gateway}" }', /must contain \{device\} exactly once/],
    ['sparkplug without its section', ', dialect: sparkplug', /needs an uplink.sparkplug section with at least group_id/],
    ['a sparkplug section under citygate', ', sparkplug: { group_id: g }', /applies to dialect: sparkplug only/],
    ['compact encoding with sparkplug', ', dialect: sparkplug, encoding: compact, sparkplug: { group_id: g }', /encoding: compact is citygate's own data format/],
    ['a group id with a topic separator', ', dialect: sparkplug, sparkplug: { group_id: "a/b" }', /not a valid Sparkplug group id/],
    ['a wildcard edge node id', ', dialect: sparkplug, sparkplug: { group_id: g, edge_node_id: "+" }', /not a valid Sparkplug edge node id/],
  ])('%s is a config error with a position', (_name, extra, message) => {
    const r = check(extra);
    expect(r.config).toBeUndefined();
    expect(r.errors.join('\n')).toMatch(/^g\.yaml:2:\d+: uplink/m);
    expect(r.errors.join('\n')).toMatch(message);
  });
});

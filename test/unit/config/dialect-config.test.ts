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

  it.each([
    ['an unknown dialect', ', dialect: opcua', /uplink\.dialect:.*citygate.*sparkplug.*thingsboard/],
    ['thingsboard before it is built', ', dialect: thingsboard', /not built yet/],
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

/**
 * diffConfig judges every section: devices one by one, commands and health.interval in
 * place, everything else (Home Assistant discovery among them, and any section it does not
 * know) as needing a restart, so no change is ever accepted and silently not applied.
 */
import { describe, expect, it } from 'vitest';
import { diffConfig, isEmpty } from '../../../src/control/diff.js';
import { configSchema, type GatewayConfig } from '../../../src/config/schema.js';

const base = (extra: Record<string, unknown> = {}): GatewayConfig =>
  configSchema.parse({
    gateway: { id: 'diff-gw', data_dir: '/tmp/diff-gw' },
    uplink: { url: 'mqtt://127.0.0.1:1883' },
    devices: [{ id: 'a', driver: 'sim', points: [{ name: 't' }] }],
    ...extra,
  });

describe('diffConfig', () => {
  it('finds nothing between equal configs', () => {
    expect(isEmpty(diffConfig(base(), base()))).toBe(true);
  });

  it('a Home Assistant change needs a restart (the publisher is built at start)', () => {
    const d = diffConfig(base(), base({ homeassistant: { enabled: true } }));
    expect(d.needsRestart).toEqual(['homeassistant']);
    expect(isEmpty(d)).toBe(false);
  });

  it('a section it does not know needs a restart', () => {
    const next = { ...base(), someday: { x: 1 } } as unknown as GatewayConfig;
    expect(diffConfig(base(), next).needsRestart).toEqual(['someday']);
  });

  it('health: interval in place, the server address and login by restart', () => {
    const d = diffConfig(base(), base({ health: { interval: '5s', http: '127.0.0.1:9999' } }));
    expect(d.inPlace).toEqual(['health.interval']);
    expect(d.needsRestart).toEqual(['health.http']);
  });

  it('devices one by one', () => {
    const d = diffConfig(base(), base({ devices: [{ id: 'a', driver: 'sim', points: [{ name: 'u' }] }, { id: 'b', driver: 'sim', points: [{ name: 't' }] }] }));
    expect(d).toMatchObject({ added: ['b'], changed: ['a'], removed: [], needsRestart: [] });
  });
});

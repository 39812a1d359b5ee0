/** The service's V8 heap flags are the same wherever the gateway is started. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_FLAGS } from '../../../src/runtime/node-flags.js';

const root = join(import.meta.dirname, '../../..');
const flags = SERVICE_NODE_FLAGS.join(' ');

describe('node flags', () => {
  it('bin/citygate.js starts node with them', () => {
    expect(readFileSync(join(root, 'bin/citygate.js'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
  });
  it('the systemd unit starts node with them', () => {
    expect(readFileSync(join(root, 'deploy/citygate.service'), 'utf8')).toContain(`ExecStart=/opt/citygate/current/node/bin/node ${flags} /opt/citygate/current/bin/citygate.js run`);
  });
  it('the benchmark runs citygate with them', () => {
    expect(readFileSync(join(root, 'bench/lib/child.ts'), 'utf8')).toContain('SERVICE_NODE_FLAGS');
  });
});

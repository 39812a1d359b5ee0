/** docs/field-notes.md#sd-notify-needs-libsystemd: readiness without the native sd-notify package. */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notifyReady } from '../../../src/runtime/sd-notify.js';
import { silentLogger } from '../../../src/core/log.js';

describe('systemd readiness', () => {
  it('calls systemd-notify --ready when systemd started us, and nothing otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-sd-'));
    const out = join(dir, 'args');
    writeFileSync(join(dir, 'systemd-notify'), `#!/bin/sh\necho "$@ $NOTIFY_SOCKET" > ${out}\n`);
    chmodSync(join(dir, 'systemd-notify'), 0o755);
    const env = { PATH: `${dir}:${process.env.PATH}`, NOTIFY_SOCKET: '/run/systemd/notify' };
    expect(await notifyReady(silentLogger(), env)).toBe(true);
    expect(readFileSync(out, 'utf8').trim()).toBe(`--ready --pid=${process.pid} /run/systemd/notify`);
    expect(await notifyReady(silentLogger(), { PATH: dir })).toBe(false);
  });

  it('does not depend on the native sd-notify package (npm install must work without libsystemd)', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8'));
    const all = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
    expect(Object.keys(all)).not.toContain('sd-notify');
  });
});

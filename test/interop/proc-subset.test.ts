/**
 * Under the unit's ProcSubset=pid only /proc/<pid>/ and /proc/self are visible. Here
 * the gateway's own code runs in a /proc mounted that way (a private mount and pid
 * namespace from unshare: root, like CI) and must still know its boot (from
 * CITYGATE_BOOT_ID, the unit's %b) or say that it does not, and still report every
 * health vital that does not come from /proc/sys.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROBE = fileURLToPath(new URL('./fixtures/proc-subset-probe.ts', import.meta.url));

interface Probe {
  procSysVisible: boolean;
  boot: { id: string; source: string; problem?: string };
  vitals: Record<string, number | null>;
  bytesWritten: number | null;
}

function probe(env: Record<string, string>): Probe {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a private /proc (unshare): run it as root (CI runs as root)');
  const unshare = requireTool('unshare');
  const script = `umount /proc && mount -t proc -o subset=pid,hidepid=invisible proc /proc && exec "$0" --import tsx "$1"`;
  const r = spawnSync(unshare, ['--mount', '--pid', '--fork', '--mount-proc', 'sh', '-c', script, process.execPath, PROBE], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  if (r.status !== 0) throw new Error(`probe failed (${r.status}): ${r.stderr.slice(-800)}`);
  return JSON.parse(r.stdout) as Probe;
}

describe('the gateway under ProcSubset=pid', () => {
  const kernelBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

  it('/proc/sys is hidden; the boot id comes from CITYGATE_BOOT_ID (%b form) and matches the kernel', () => {
    const p = probe({ CITYGATE_BOOT_ID: kernelBoot.replaceAll('-', '') });
    expect(p.procSysVisible).toBe(false);
    expect(p.boot).toEqual({ id: kernelBoot, source: 'systemd' });
  });

  it('without it the boot is unknown and the reason is given, not a silent guess', () => {
    const p = probe({});
    expect(p.boot.source).toBe('unknown');
    expect(p.boot.problem).toMatch(/boot_id cannot be read \(ENOENT\)/);
  });

  it('the health vitals are still there: load, memory, RSS, disk, bytes written', () => {
    const { vitals, bytesWritten } = probe({});
    for (const k of ['load_1m', 'mem_free_bytes', 'mem_total_bytes', 'rss_bytes', 'disk_free_bytes', 'disk_total_bytes']) {
      expect(vitals[k], k).not.toBeNull();
      expect(vitals[k], k).toBeGreaterThan(k === 'load_1m' ? -1 : 0);
    }
    expect(bytesWritten).not.toBeNull();
  });
});

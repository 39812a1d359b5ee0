/** The disk budget: what validate/doctor warn about, and the running limit. */
import { describe, expect, it } from 'vitest';
import { DiskGuard, diskBudgetWarning, isDiskFull } from '../../../src/buffer/disk-guard.js';
import { tempDir } from '../../helpers/gateway-config.js';

const MiB = 1024 * 1024;

describe('disk budget', () => {
  it('warns when max_bytes is more than the file system can give, naming the limit that will apply', () => {
    const fs = () => ({ free: 100 * MiB, total: 1000 * MiB });
    expect(diskBudgetWarning('/nonexistent/citygate', 50 * MiB, fs)).toBeUndefined();
    const w = diskBudgetWarning('/nonexistent/citygate', 256 * MiB, fs);
    expect(w).toMatch(/buffer\.max_bytes \(256 MiB\) is more than \/nonexistent\/citygate can hold on this machine \(100 MiB free\): the buffer will keep to about 84 MiB/);
  });

  it('looks at the nearest existing parent of a data_dir that does not exist yet', () => {
    const seen: string[] = [];
    const fs = (dir: string) => {
      seen.push(dir);
      if (dir !== '/var') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return { free: 10 * MiB, total: 100 * MiB };
    };
    expect(diskBudgetWarning('/var/lib/citygate', 64 * MiB, fs)).toMatch(/\/var can hold/);
    expect(seen).toEqual(['/var/lib/citygate', '/var/lib', '/var']);
  });

  it('running limit is min(max_bytes, used + free − reserve); state ok → low → full', () => {
    let free = 500 * MiB;
    const g = new DiskGuard({ dataDir: tempDir(), maxBytes: 256 * MiB, reserveBytes: 10 * MiB, statfs: () => ({ free, total: 1000 * MiB }) });
    expect(g.budget(0)).toBe(256 * MiB);
    expect(g.state(0)).toBe('ok');
    free = 100 * MiB;
    expect(g.budget(20 * MiB)).toBe(110 * MiB);
    expect(g.state(20 * MiB)).toBe('low');
    g.setFailing(true);
    expect(g.state(20 * MiB)).toBe('full');
  });

  it('knows the errors that mean no space', () => {
    for (const code of ['SQLITE_FULL', 'ENOSPC', 'SQLITE_IOERR_SHMSIZE']) expect(isDiskFull(Object.assign(new Error('x'), { code }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }))).toBe(false);
  });
});

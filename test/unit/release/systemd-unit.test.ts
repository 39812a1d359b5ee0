/**
 * deploy/citygate.service is a unit systemd can trust: `systemd-analyze verify` says
 * nothing about it, its exposure (`systemd-analyze security --offline=yes`) stays at
 * or below 2.0, it is Type=notify with a watchdog, and it starts node with the
 * release's own runtime under /opt/citygate/current. The update hand-over units
 * (citygate-update.path and .service) and citygate-firstboot.service verify clean too,
 * and the two root helpers stay under their exposure bounds (deploy/README.md).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/gateway-config.js';
import { need, onPath, tool, type NeedContext } from '../../helpers/needs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'deploy/citygate.service');
const MAX_EXPOSURE = 2.0;

function analyze(ctx: NeedContext, args: string[]) {
  need(ctx, tool('systemd-analyze'));
  return spawnSync(onPath('systemd-analyze')!, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
}

describe('deploy/citygate.service', () => {
  it(`has an exposure of at most ${MAX_EXPOSURE} (systemd-analyze security --offline=yes)`, (ctx) => {
    const r = analyze(ctx, ['security', '--offline=yes', '--no-pager', UNIT]);
    const m = /Overall exposure level for citygate\.service: ([\d.]+)/.exec(r.stdout);
    expect(m, `no exposure figure in: ${r.stdout.slice(-500)} ${r.stderr}`).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it('passes systemd-analyze verify with no warning', (ctx) => {
    // verify checks that ExecStart's binaries exist: lay out a release under a temp
    // directory and point a copy of the unit at it (only the /opt prefix changes).
    const dir = tempDir('cg-unit-');
    const current = join(dir, 'opt/citygate/current');
    mkdirSync(join(current, 'node/bin'), { recursive: true });
    symlinkSync(process.execPath, join(current, 'node/bin/node'));
    cpSync(join(ROOT, 'bin'), join(current, 'bin'), { recursive: true });
    const copy = join(dir, 'citygate.service');
    writeFileSync(copy, readFileSync(UNIT, 'utf8').replaceAll('/opt/citygate/', `${dir}/opt/citygate/`));
    const r = analyze(ctx, ['verify', '--no-pager', copy]);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('is Type=notify with a watchdog, and runs the release under /opt/citygate/current', () => {
    const unit = readFileSync(UNIT, 'utf8');
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^WatchdogSec=\d+/m);
    expect(unit).toMatch(/^ExecStart=\/opt\/citygate\/current\/node\/bin\/node .* \/opt\/citygate\/current\/bin\/citygate\.js run /m);
    expect(unit).toMatch(/^SupplementaryGroups=dialout gpio$/m);
  });

  it('hands the gateway the boot id (%b), since ProcSubset=pid hides /proc/sys/kernel/random/boot_id', () => {
    const unit = readFileSync(UNIT, 'utf8');
    expect(unit).toMatch(/^ProcSubset=pid$/m);
    expect(unit).toMatch(/^Environment=CITYGATE_BOOT_ID=%b$/m);
  });
});

/** The root helpers: sandboxed as far as their jobs allow (deploy/README.md has the figures). */
const ROOT_HELPERS = [
  { unit: 'citygate-update.service', max: 2.0, was: 9.0 },
  { unit: 'citygate-firstboot.service', max: 1.5, was: 9.6 },
];

describe('the root helpers citygate-update.service and citygate-firstboot.service', () => {
  for (const { unit, max, was } of ROOT_HELPERS) {
    it(`${unit} has an exposure of at most ${max} (was ${was})`, (ctx) => {
      const r = analyze(ctx, ['security', '--offline=yes', '--no-pager', join(ROOT, 'deploy', unit)]);
      const m = new RegExp(`Overall exposure level for ${unit.replace('.', '\\.')}: ([\\d.]+)`).exec(r.stdout);
      expect(m, `no exposure figure in: ${r.stdout.slice(-500)} ${r.stderr}`).not.toBeNull();
      expect(Number(m![1])).toBeLessThanOrEqual(max);
    });
  }

  it('citygate-firstboot.service passes systemd-analyze verify with no warning', (ctx) => {
    const dir = tempDir('cg-firstboot-unit-');
    const deploy = join(dir, 'opt/citygate/current/deploy');
    mkdirSync(deploy, { recursive: true });
    cpSync(join(ROOT, 'deploy/firstboot.sh'), join(deploy, 'firstboot.sh'));
    const copy = join(dir, 'citygate-firstboot.service');
    writeFileSync(copy, readFileSync(join(ROOT, 'deploy/citygate-firstboot.service'), 'utf8').replaceAll('/opt/citygate/', `${dir}/opt/citygate/`));
    const r = analyze(ctx, ['verify', '--no-pager', copy]);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('deploy/citygate-update.path and citygate-update.service', () => {
  it('pass systemd-analyze verify with no warning, and watch the file the gateway writes', (ctx) => {
    const dir = tempDir('cg-update-unit-');
    const current = join(dir, 'opt/citygate/current');
    mkdirSync(join(current, 'node/bin'), { recursive: true });
    symlinkSync(process.execPath, join(current, 'node/bin/node'));
    cpSync(join(ROOT, 'bin'), join(current, 'bin'), { recursive: true });
    for (const name of ['citygate-update.path', 'citygate-update.service']) {
      writeFileSync(join(dir, name), readFileSync(join(ROOT, 'deploy', name), 'utf8').replaceAll('/opt/citygate/', `${dir}/opt/citygate/`));
    }
    const r = analyze(ctx, ['verify', '--no-pager', join(dir, 'citygate-update.path'), join(dir, 'citygate-update.service')]);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
    const path = readFileSync(join(ROOT, 'deploy/citygate-update.path'), 'utf8');
    expect(path).toMatch(/^PathExists=\/var\/lib\/citygate\/updates\/request\.json$/m);
    const service = readFileSync(join(ROOT, 'deploy/citygate-update.service'), 'utf8');
    expect(service).toMatch(/ update --config \/etc\/citygate\/gateway\.yaml --request \/var\/lib\/citygate\/updates\/request\.json$/m);
  });
});

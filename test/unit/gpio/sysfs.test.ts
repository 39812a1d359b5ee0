import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GpioSetupError } from '../../../src/ports/gpio/errors.js';
import { kernelNumber, listChips, preflight, resolveController } from '../../../src/ports/gpio/sysfs.js';
import { TREES, buildTree } from './fixtures/tree.js';
import { assertNobodyCanReadCheckout } from '../../helpers/as-nobody.js';

const CHILD = fileURLToPath(new URL('./fixtures/preflight-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

async function setupError(p: Promise<unknown>): Promise<GpioSetupError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GpioSetupError);
  return err as GpioSetupError;
}

describe('sysfs GPIO base resolution (fivdi/onoff #199/#200)', () => {
  it.each([
    ['bcm2835-legacy', 'pinctrl-bcm2835', 0, 17],
    ['bcm2835-bookworm', 'pinctrl-bcm2835', 512, 529],
    ['bcm2711-bookworm', 'pinctrl-bcm2711', 512, 529],
    ['rp1-pi5', 'pinctrl-rp1', 571, 588],
  ])('%s: controller %s at base %i, BCM 17 is gpio%i', async (tree, label, base, kernel17) => {
    const root = buildTree(TREES[tree] ?? []);
    const c = await resolveController(root);
    expect(c.label).toBe(label);
    expect(c.base).toBe(base);
    expect(kernelNumber(c, 17)).toBe(kernel17);
    expect(kernelNumber(c, 0)).toBe(base);
  });

  it('lists every chip, including the ones that are not the header', async () => {
    const chips = await listChips(buildTree(TREES['rp1-pi5'] ?? []));
    expect(chips.map((c) => c.base)).toEqual([512, 544, 548, 565, 571]);
  });

  it('rejects a pin the controller does not have, naming BCM numbering', async () => {
    const c = await resolveController(buildTree(TREES['rp1-pi5'] ?? []));
    expect(() => kernelNumber(c, 54)).toThrow(/GPIO 54 does not exist on pinctrl-rp1 \(BCM 0–53\).*BCM numbers/);
    expect(() => kernelNumber(c, -1)).toThrow(GpioSetupError);
  });

  it('says sysfs GPIO is missing when the root does not exist', async () => {
    const root = buildTree([]);
    rmSync(root, { recursive: true });
    const err = await setupError(resolveController(root));
    expect(err.problem).toBe('missing');
    expect(err.message).toContain(`${root} does not exist`);
    expect(err.message).toContain('CONFIG_GPIO_SYSFS');
  });

  it('names the chips it found when none is a Raspberry Pi controller', async () => {
    const root = buildTree([{ base: 0, label: 'gpio-mockup-A', ngpio: 8 }]);
    const err = await setupError(resolveController(root));
    expect(err.problem).toBe('no-controller');
    expect(err.message).toMatch(/gpiochip0 "gpio-mockup-A" base 0/);
  });

  it('skips a chip with an unreadable base instead of failing', async () => {
    const root = buildTree(TREES['bcm2711-bookworm'] ?? []);
    writeFileSync(join(root, 'gpiochip570', 'base'), 'garbage\n');
    expect((await listChips(root)).map((c) => c.base)).toEqual([512]);
  });

  it('preflight passes for a writable tree and returns the kernel number', async () => {
    const root = buildTree(TREES['bcm2711-bookworm'] ?? []);
    await expect(preflight(root, 17)).resolves.toMatchObject({ kernel: 529 });
  });

  describe('without permission (not in group gpio)', () => {
    // Root passes every access check, so when the suite runs as root the check runs in a
    // child process as "nobody"; otherwise in a child as ourselves after a chmod.
    function runPreflight(
      root: string,
      pin: number,
      restrict: string | undefined,
    ): { ok: boolean; problem?: string; message?: string; kernel?: number } {
      const asRoot = process.getuid?.() === 0;
      if (asRoot) assertNobodyCanReadCheckout();
      if (!asRoot && restrict) chmodSync(join(root, restrict), 0o444);
      const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, root, String(pin)], {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 20_000,
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { ok: boolean; problem?: string; message?: string };
    }

    it('tells the user to join group gpio when export is not writable', () => {
      const root = buildTree(TREES['bcm2711-bookworm'] ?? []);
      chmodSync(join(root, 'export'), 0o644);
      const out = runPreflight(root, 17, 'export');
      expect(out.ok).toBe(false);
      expect(out.problem).toBe('permission');
      expect(out.message).toMatch(/permission denied writing .*export/);
      expect(out.message).toMatch(/sudo usermod -aG gpio \S+/);
    });

    it('checks the value file of an already exported line', () => {
      const root = buildTree(TREES['bcm2711-bookworm'] ?? [], { exported: [529] });
      chmodSync(join(root, 'gpio529', 'value'), 0o644);
      const out = runPreflight(root, 17, 'gpio529/value');
      expect(out.problem).toBe('permission');
      expect(out.message).toContain('gpio529/value');
    });

    it('passes once the files are writable for the user (udev rule for group gpio)', () => {
      const root = buildTree(TREES['bcm2711-bookworm'] ?? []);
      chmodSync(join(root, 'export'), 0o666);
      expect(runPreflight(root, 17, undefined)).toEqual({ ok: true, kernel: 529 });
    });
  });
});

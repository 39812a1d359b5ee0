/**
 * Where BCM pin N lives in sysfs. Since Raspberry Pi OS Bookworm (kernel 6.6+) the
 * bcm2835/bcm2711 GPIO controller no longer starts at 0 but at 512, and the Pi 5's RP1 at
 * 571; libraries that write `N` to /sys/class/gpio/export get EINVAL (fivdi/onoff #199,
 * #200, #197; the fix in onoff PR #204 is unmerged). We find the controller by its
 * `label` and add its `base`, so config keeps the BCM numbers printed on pinout diagrams.
 *
 * On any other board a line is named by chip and offset, as libgpiod names them: the chip
 * by its label (`gpio-sim.0-node0`) or its character-device name (`gpiochip2`, the
 * /dev/gpiochip2 that `gpiodetect` lists — not the sysfs `gpiochip<base>` directory name).
 * sysfs links each `gpiochip<base>` to its device: `device` points at the `gpiochipN`
 * directory of the character device, which is how the two names meet.
 *
 * Functions here only read the directory they are given (default /sys/class/gpio), so
 * tests run them against trees they build (test/unit/gpio/sysfs.test.ts).
 */
import { constants } from 'node:fs';
import { access, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { noController, noSuchChip, noSuchLine, noSuchPin, permissionDenied, sysfsMissing } from './errors.js';
import type { LineRef } from './port.js';

export const DEFAULT_SYSFS_ROOT = '/sys/class/gpio';

/** Controller labels of the Raspberry Pi SoCs, most specific first (a Pi 5 also has other chips). */
export const PI_CONTROLLER_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface GpioChip {
  /** sysfs directory name, e.g. `gpiochip512` (named by base). */
  name: string;
  /** Character-device name, e.g. `gpiochip0` for /dev/gpiochip0, when sysfs links it. */
  device?: string;
  label: string;
  base: number;
  ngpio: number;
}

export interface GpioController extends GpioChip {
  root: string;
}

async function readTrim(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

/** Every gpiochip under `root`, unreadable ones skipped. Rejects when `root` is missing. */
export async function listChips(root = DEFAULT_SYSFS_ROOT): Promise<GpioChip[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw sysfsMissing(root);
    if (code === 'EACCES') throw permissionDenied(root, err);
    throw err;
  }
  const chips: GpioChip[] = [];
  for (const name of names.filter((n) => /^gpiochip\d+$/.test(n)).sort()) {
    try {
      const dir = join(root, name);
      const [label, base, ngpio] = await Promise.all([
        readTrim(join(dir, 'label')),
        readTrim(join(dir, 'base')),
        readTrim(join(dir, 'ngpio')).catch(() => '0'),
      ]);
      if (!/^\d+$/.test(base)) continue;
      const device = await realpath(join(dir, 'device')).then(
        (p) => basename(p),
        () => undefined,
      );
      chips.push({
        name,
        ...(device !== undefined && /^gpiochip\d+$/.test(device) ? { device } : {}),
        label,
        base: Number(base),
        ngpio: /^\d+$/.test(ngpio) ? Number(ngpio) : 0,
      });
    } catch {
      // a chip we cannot read is not one we can use; the others may still be fine
    }
  }
  return chips;
}

/** The Pi's GPIO controller under `root`, or a GpioSetupError saying why there is none. */
export async function resolveController(root = DEFAULT_SYSFS_ROOT): Promise<GpioController> {
  const chips = await listChips(root);
  for (const label of PI_CONTROLLER_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return { ...chip, root };
  }
  throw noController(root, chips.map((c) => `${c.name} "${c.label}" base ${c.base}`));
}

/** The kernel (sysfs) number of BCM pin `pin`; rejects pins the controller does not have. */
export function kernelNumber(controller: GpioController, pin: number): number {
  if (!Number.isInteger(pin) || pin < 0 || (controller.ngpio > 0 && pin >= controller.ngpio)) {
    throw noSuchPin(pin, controller.label, controller.ngpio || 54);
  }
  return controller.base + pin;
}

/** How messages list a chip: `gpiochip2 "gpio-sim.0-node0" (8 lines, sysfs base 512)`. */
export function describeChip(c: GpioChip): string {
  return `${c.device ?? c.name} "${c.label}" (${c.ngpio} line${c.ngpio === 1 ? '' : 's'}, sysfs base ${c.base})`;
}

/** The chip named `chip` (label or character-device name) under `root`. */
export async function resolveChip(root: string, chip: string): Promise<GpioController> {
  const chips = await listChips(root);
  const found = chips.find((c) => c.label === chip) ?? chips.find((c) => c.device === chip);
  if (!found) throw noSuchChip(root, chip, chips.map(describeChip));
  return { ...found, root };
}

/** The chip a line is on and the line's sysfs number; rejects chips and lines that do not exist. */
export async function resolveLine(root: string, ref: LineRef): Promise<{ controller: GpioController; kernel: number }> {
  if (typeof ref === 'number') {
    const controller = await resolveController(root);
    return { controller, kernel: kernelNumber(controller, ref) };
  }
  const controller = await resolveChip(root, ref.chip);
  if (!Number.isInteger(ref.line) || ref.line < 0 || ref.line >= controller.ngpio) {
    const named = controller.device !== undefined && controller.device !== ref.chip ? `${ref.chip} (${controller.device})` : ref.chip;
    throw noSuchLine(named, ref.line, controller.ngpio);
  }
  return { controller, kernel: controller.base + ref.line };
}

/**
 * Can this process export lines? Checks `export` for write access, so a missing group
 * membership is reported as such instead of as onoff's bare EACCES after a busy-wait.
 */
export async function checkExportAccess(root = DEFAULT_SYSFS_ROOT): Promise<void> {
  const exp = join(root, 'export');
  try {
    await access(exp, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw sysfsMissing(root);
    throw permissionDenied(exp, err);
  }
}

/**
 * Checks an exported line's value file for read/write access (udev may still be fixing
 * permissions right after export; callers retry for a moment).
 */
export async function checkLineAccess(root: string, kernel: number): Promise<void> {
  const value = join(root, `gpio${kernel}`, 'value');
  try {
    await access(value, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw permissionDenied(value, err);
  }
}

/** Whether `gpio<kernel>` is already exported. */
export async function isExported(root: string, kernel: number): Promise<boolean> {
  try {
    return (await stat(join(root, `gpio${kernel}`))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Everything a port checks before opening a line (BCM `pin`, or chip and offset): sysfs
 * present, chip found, line valid, export (or the already exported line) writable. `exported` says whether the line
 * was already exported — by an earlier run that crashed, or by another program (a running
 * gateway, when this is the probe) — so the port knows not to unexport it on close.
 */
export async function preflight(root: string, pin: LineRef): Promise<{ controller: GpioController; kernel: number; exported: boolean }> {
  const { controller, kernel } = await resolveLine(root, pin);
  const exported = await isExported(root, kernel);
  if (!exported) await checkExportAccess(root);
  else await checkLineAccess(root, kernel);
  return { controller, kernel, exported };
}

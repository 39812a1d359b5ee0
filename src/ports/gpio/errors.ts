/**
 * GPIO setup errors, written for a technician on a ladder (docs/architecture.md#errors): what is wrong, where, and the command that fixes it. They are UserErrors:
 * the CLI prints them without a stack trace and exits 1; a driver that hits one fails
 * its start and the supervisor retries (someone may fix the permissions meanwhile).
 */
import { userInfo } from 'node:os';
import { UserError } from '../../core/errors.js';

export type GpioSetupProblem = 'missing' | 'permission' | 'no-controller' | 'no-such-chip' | 'no-such-pin' | 'busy' | 'io';

export class GpioSetupError extends UserError {
  override name = 'GpioSetupError';
  constructor(
    readonly problem: GpioSetupProblem,
    message: string,
  ) {
    super(message);
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '<user>';
  }
}

export function sysfsMissing(root: string): GpioSetupError {
  return new GpioSetupError(
    'missing',
    `sysfs GPIO is not available: ${root} does not exist — this kernel was built without ` +
      'CONFIG_GPIO_SYSFS, or this is not a Raspberry Pi-class Linux board. Raspberry Pi OS ' +
      '(Bullseye, Bookworm) has it; check with `ls /sys/class/gpio`. Inputs and pulse counters can ' +
      'use the kernel\'s GPIO character device instead: `backend: gpiomon` (apt install gpiod).',
  );
}

export function permissionDenied(path: string, err?: unknown): GpioSetupError {
  const user = currentUser();
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'EACCES';
  return new GpioSetupError(
    'permission',
    `permission denied writing ${path} (${code}): user "${user}" may not use GPIO — add it to ` +
      `group gpio: \`sudo usermod -aG gpio ${user}\`, then log out and back in (or restart ` +
      'the citygate service). Check with `id` that "gpio" is listed.',
  );
}

export function noController(root: string, found: string[]): GpioSetupError {
  const seen = found.length ? `found: ${found.join(', ')}` : 'found no gpiochip at all';
  return new GpioSetupError(
    'no-controller',
    `no Raspberry Pi GPIO controller under ${root} (looked for a gpiochip labelled ` +
      `pinctrl-bcm2835, pinctrl-bcm2711 or pinctrl-rp1; ${seen}) — is this a Raspberry Pi?`,
  );
}

export function noSuchPin(pin: number, label: string, ngpio: number): GpioSetupError {
  return new GpioSetupError(
    'no-such-pin',
    `GPIO ${pin} does not exist on ${label} (BCM 0–${ngpio - 1}) — config uses BCM numbers ` +
      '(GPIO17 is physical pin 11), not physical header pin numbers.',
  );
}

export function noSuchChip(root: string, chip: string, found: string[]): GpioSetupError {
  const seen = found.length ? `chips present: ${found.join(', ')}` : 'there is no gpiochip at all';
  return new GpioSetupError(
    'no-such-chip',
    `no GPIO chip "${chip}" under ${root} (a chip is named by its label or its /dev name, as ` +
      `\`gpiodetect\` prints them; ${seen})`,
  );
}

export function noSuchLine(chip: string, line: number, ngpio: number): GpioSetupError {
  return new GpioSetupError(
    'no-such-pin',
    `line ${line} does not exist on GPIO chip ${chip}, which has ${ngpio} line${ngpio === 1 ? '' : 's'} ` +
      `(offsets 0–${ngpio - 1}) — \`gpioinfo\` lists them`,
  );
}

export function lineBusy(pin: string, kernel: number, err?: unknown): GpioSetupError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'EBUSY';
  return new GpioSetupError(
    'busy',
    `${pin} (sysfs gpio${kernel}) is in use by a kernel driver or another program (${code}) — ` +
      'check /boot/firmware/config.txt for overlays on this pin (w1-gpio, i2c, spi, uart) and ' +
      '`sudo cat /sys/kernel/debug/gpio`.',
  );
}

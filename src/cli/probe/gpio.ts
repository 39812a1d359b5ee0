/**
 * `citygate probe gpio …`: GPIO checks for a technician at the pole.
 *   info             the GPIO chips (label, /dev name, lines, sysfs base), and where BCM 0
 *                    sits in sysfs on a Raspberry Pi
 *   watch PIN        print every edge with a timestamp, and the pulses the gpio driver
 *                    would count (same debounce and edge logic, src/drivers/gpio)
 *   set PIN LEVEL    drive an output (a relay) to 0 or 1
 * PIN is a BCM number, or with `--chip <label|gpiochipN>` a line offset on that chip (any
 * board). Setup problems (no sysfs GPIO, not in group gpio, no such pin or chip)
 * are UserErrors with the fix in the message: exit 1, no stack trace. `--sysfs-root` is
 * hidden: it points the probe at a sysfs-shaped tree (tests), through the plain-file port.
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { UserError, describeError } from '../../core/errors.js';
import { formatDuration, parseDuration } from '../../core/units.js';
import { Debouncer } from '../../drivers/gpio/debounce.js';
import { DEFAULT_DEBOUNCE_MS } from '../../drivers/gpio/schema.js';
import { isPulse } from '../../drivers/gpio/tally.js';
import { DEFAULT_SYSFS_ROOT, GpioSetupError, createGpioPort, listChips, resolveController, resolveLine } from '../../ports/gpio/index.js';
import { lineName, toLevel, type Level, type LineRef } from '../../ports/gpio/port.js';
import { onStdoutClosed } from '../closed-stdout.js';

interface CommonOpts {
  sysfsRoot?: string;
  activeLow?: boolean;
  chip?: string;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** The line was exported before we came: maybe by a running gateway. We leave it exported. */
const SHARED = (pin: LineRef): string =>
  `note: ${lineName(pin)} was already exported — if a running gateway owns it, the probe shares the line ` +
  '(and leaves it exported); stop the service first for a clean test';

function parsePin(arg: string, chip: string | undefined): LineRef {
  if (chip !== undefined) {
    if (!/^\d{1,4}$/.test(arg)) throw new UserError(`with --chip, expected a line offset like 3, got "${arg}" (\`gpioinfo\` lists them)`);
    return { chip, line: Number(arg) };
  }
  if (!/^\d{1,2}$/.test(arg) || Number(arg) > 57) {
    throw new UserError(`expected a BCM GPIO number like 17, got "${arg}" (GPIO17 is physical pin 11 on the header)`);
  }
  return Number(arg);
}

function parseMs(arg: string, what: string): number {
  const ms = parseDuration(arg);
  if (ms === undefined) throw new UserError(`--${what}: expected a duration like "10s" or "20ms", got "${arg}"`);
  return ms;
}

function sysfsOption(): Option {
  return new Option('--sysfs-root <dir>', 'sysfs GPIO directory (tests)').default(DEFAULT_SYSFS_ROOT).hideHelp();
}

async function locate(pin: LineRef, root: string): Promise<string> {
  const { controller: c, kernel } = await resolveLine(root, pin);
  return `sysfs gpio${kernel}, ${c.label} base ${c.base}`;
}

async function info(opts: CommonOpts): Promise<void> {
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  const chips = await listChips(root);
  for (const c of chips) out(`${c.name}  base ${c.base}  ngpio ${c.ngpio}  ${c.label}${c.device ? `  (/dev/${c.device})` : ''}`);
  try {
    const c = await resolveController(root);
    out(`header GPIO: ${c.label}; BCM pin N is sysfs gpio${c.base}+N (BCM 17 = gpio${c.base + 17})`);
  } catch (err) {
    if (!(err instanceof GpioSetupError) || err.problem !== 'no-controller' || chips.length === 0) throw err;
    const first = chips[0];
    out(
      `no Raspberry Pi controller (pinctrl-*): name lines by chip and offset — in config \`chip: ${first?.label ?? '<label>'}\`, ` +
        `\`line: N\`; here \`--chip ${first?.label ?? '<label>'} N\``,
    );
  }
}

interface WatchOpts extends CommonOpts {
  duration?: string;
  edge: string;
  debounce: string;
}

async function watch(pinArg: string, opts: WatchOpts): Promise<void> {
  const pin = parsePin(pinArg, opts.chip);
  const durationMs = opts.duration === undefined ? undefined : parseMs(opts.duration, 'duration');
  const debounceMs = parseMs(opts.debounce, 'debounce');
  const edge = opts.edge;
  if (edge !== 'rising' && edge !== 'falling' && edge !== 'both') {
    throw new UserError(`--edge: expected rising, falling or both, got "${edge}"`);
  }
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  const where = await locate(pin, root);
  const line = await createGpioPort(root).open(pin, { direction: 'in', edge: 'both', activeLow: opts.activeLow ?? false });
  const t0 = systemClock.mono();
  const stamp = (): string =>
    `${new Date(systemClock.now()).toISOString()}  +${((systemClock.mono() - t0) / 1000).toFixed(3)}s`;
  let edges = 0;
  let pulses = 0;
  try {
    const first = await line.read();
    out(
      `watching ${lineName(pin)} (${where})${opts.activeLow ? ', active low' : ''}: counting ${edge} edges, ` +
        `debounce ${formatDuration(debounceMs)}; ${durationMs === undefined ? 'Ctrl-C to stop' : `for ${formatDuration(durationMs)}`}`,
    );
    if (line.preexisting) out(SHARED(pin));
    out(`${stamp()}  level ${first}`);
    const debouncer = new Debouncer(systemClock, debounceMs, first, (level) => {
      if (!isPulse(edge, level)) return;
      pulses++;
      out(`${stamp()}  pulse ${pulses} (level ${level} held ${formatDuration(debounceMs)})`);
    });
    const unwatch = line.watch(
      (v: Level) => {
        edges++;
        out(`${stamp()}  edge  → ${v} (${v === 1 ? 'rising' : 'falling'})`);
        debouncer.raw(v);
      },
      (err) => process.stderr.write(`citygate: ${lineName(pin)}: ${describeError(err)}\n`),
    );
    await new Promise<void>((resolve) => {
      // a ref'd timer keeps the process alive while we wait (clock timers are unref'd)
      const keep = setInterval(() => undefined, 60_000);
      const done = (): void => {
        clearInterval(keep);
        clearTimeout(timer);
        process.removeListener('SIGINT', done);
        offClosed();
        resolve();
      };
      const timer = durationMs === undefined ? undefined : setTimeout(done, durationMs + debounceMs);
      process.once('SIGINT', done);
      const offClosed = onStdoutClosed(done); // `| head`: nobody reads any more
    });
    unwatch();
    debouncer.dispose();
    out(`${edges} edge${edges === 1 ? '' : 's'}, ${pulses} pulse${pulses === 1 ? '' : 's'} counted, ${debouncer.stats.rejected} bounce burst${debouncer.stats.rejected === 1 ? '' : 's'} rejected`);
  } finally {
    await line.close();
  }
}

async function set(pinArg: string, levelArg: string, opts: CommonOpts): Promise<void> {
  const pin = parsePin(pinArg, opts.chip);
  const level = toLevel(levelArg);
  if (level === undefined) throw new UserError(`expected a level 0 or 1 (or on/off), got "${levelArg}"`);
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  const where = await locate(pin, root);
  // `initial` drives the level as the line becomes an output: no glitch to the other level.
  const line = await createGpioPort(root).open(pin, { direction: 'out', initial: level, activeLow: opts.activeLow ?? false });
  const back = await line.read();
  // The line is deliberately left exported: unexporting could let it float, and the
  // technician wants the relay to stay where they put it.
  if (line.preexisting) out(SHARED(pin));
  out(`${lineName(pin)} (${where}) set to ${level}${opts.activeLow ? ' (active low)' : ''}; reads back ${back}`);
  if (back !== level) throw new Error(`${lineName(pin)} reads ${back} after being set to ${level}: something else drives the pin`);
  out('the pin keeps this level until set again, a reboot, or a gateway device that owns the pin changes it');
}

export function registerGpioProbe(probe: Command): void {
  const chipHelp = 'the pin is a line offset on this chip (label or gpiochipN, as gpiodetect lists them), not a BCM number';
  const gpio = probe.command('gpio').description('GPIO: chip info, watch edges and pulses, set an output (BCM numbers, or --chip and offset)');
  gpio
    .command('info')
    .description('show the GPIO chips and where BCM pins sit in sysfs (base 0, 512 or 571)')
    .addOption(sysfsOption())
    .action((opts: CommonOpts) => info(opts));
  gpio
    .command('watch <pin>')
    .description('print edges with timestamps and the pulses a counter would count')
    .option('--duration <time>', 'stop after this long (e.g. 10s); default: until Ctrl-C')
    .option('--edge <edge>', 'which transitions count as a pulse: rising, falling or both', 'falling')
    .option('--debounce <time>', 'a level must hold this long to count', `${DEFAULT_DEBOUNCE_MS}ms`)
    .option('--active-low', 'invert the level (switch to ground with a pull-up)')
    .option('--chip <chip>', chipHelp)
    .addOption(sysfsOption())
    .action((pin: string, opts: WatchOpts) => watch(pin, opts));
  gpio
    .command('set <pin> <level>')
    .description('drive an output to 0 or 1 (e.g. a relay)')
    .option('--active-low', 'invert the level (relay boards that switch on at 0 V)')
    .option('--chip <chip>', chipHelp)
    .addOption(sysfsOption())
    .action((pin: string, level: string, opts: CommonOpts) => set(pin, level, opts));
}

/**
 * gpio-sim in the machine test's guest (test/machine/gpio-sim/README.md): the modules,
 * built on the host for the guest's kernel by gpio-sim/build.sh and cached beside the
 * base image, sent into the guest through the agent and loaded; a chip made through
 * configfs with a label of our choosing; and the "host side" of its lines: the `pull`
 * attribute a script in the guest writes to make edges, and the `value` an output line
 * is driven to.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Vm } from './vm.js';

const BUILD_SH = fileURLToPath(new URL('./gpio-sim/build.sh', import.meta.url));
const CACHE = process.env.CITYGATE_MACHINE_CACHE ?? '/var/cache/citygate-machine';

/** irq_sim.ko and gpio-sim.ko for kernel `kver`: from the cache, else built (about a minute; needs root for apt-get). */
export function gpioSimModules(kver: string): { dir: string; built: boolean } {
  const dir = join(CACHE, `gpio-sim-${kver}`);
  if (existsSync(join(dir, 'gpio-sim.ko')) && existsSync(join(dir, 'irq_sim.ko'))) return { dir, built: false };
  const r = spawnSync('bash', [BUILD_SH, kver, dir], { encoding: 'utf8', timeout: 20 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`gpio-sim/build.sh ${kver} failed (${r.status ?? r.signal})`);
  return { dir, built: true };
}

export interface SimChip {
  /** The chip's label (what citygate's config names). */
  label: string;
  /** /dev name, e.g. gpiochip1. */
  chip: string;
  /** /sys/devices/platform/gpio-sim.N/gpiochipM: its sim_gpio<offset>/{pull,value}. */
  dir: string;
}

/** Sends the modules into the guest and loads them (configfs mounted). */
export async function loadGpioSim(vm: Vm): Promise<{ kver: string; built: boolean }> {
  const kver = (await vm.run('uname -r')).trim();
  const { dir, built } = gpioSimModules(kver);
  for (const ko of ['irq_sim.ko', 'gpio-sim.ko']) {
    const b64 = readFileSync(join(dir, ko)).toString('base64');
    await vm.run(`mkdir -p /lib/modules/${kver}/extra && base64 -d > /lib/modules/${kver}/extra/${ko} <<'__KO__'\n${b64}\n__KO__`, 120_000);
  }
  await vm.run('depmod -a && modprobe gpio-sim && { mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config; }', 120_000);
  return { kver, built };
}

/** A live gpio-sim chip with `lines` lines labelled `label`; `pullUp` lines start pulled up (idle high). */
export async function makeSimChip(vm: Vm, label: string, lines: number, pullUp: number[] = []): Promise<SimChip> {
  const out = await vm.run(
    [
      'set -e',
      'cd /sys/kernel/config/gpio-sim',
      'mkdir cg cg/bank0',
      `echo ${lines} > cg/bank0/num_lines`,
      `echo ${label} > cg/bank0/label`,
      'echo 1 > cg/live',
      'dev=$(cat cg/dev_name); chip=$(cat cg/bank0/chip_name)',
      'echo "$chip /sys/devices/platform/$dev/$chip"',
    ].join('\n'),
  );
  const [chip, dir] = out.trim().split(/\s+/);
  const sim: SimChip = { label, chip: chip!, dir: dir! };
  for (const l of pullUp) await vm.run(`echo pull-up > ${sim.dir}/sim_gpio${l}/pull`);
  return sim;
}

/** The level an output line is driven to, as the chip has it. */
export async function simValue(vm: Vm, sim: SimChip, line: number): Promise<number> {
  return Number((await vm.run(`cat ${sim.dir}/sim_gpio${line}/value`)).trim());
}

export interface PulseResult {
  /** Falling edges made (the control count). */
  sent: number;
  /** Wall time of the train in the guest, and the longest a level overran its planned length (levels never run short). */
  ms: number;
  /** The mean rate achieved (pulses per second). */
  hz: number;
  maxLateMs: number;
  /** The guest's wall-clock time (ms) of each falling edge written: the clock the gateway stamps readings with. */
  falls: number[];
}

/**
 * A pulse train on `lines` (the same pulses on each), written from one process in the
 * guest (the bundle's Node, run as root): each pulse is `lowMs` pulled down, then `highMs`
 * pulled up. Each level is timed from the moment its write returned, so a late write (the
 * guest is descheduled under TCG) lengthens a level and never shortens the next one: the
 * train is never faster than asked, only slower. The lines must idle high.
 */
export async function pulseTrain(vm: Vm, sim: SimChip, lines: number[], n: number, lowMs: number, highMs: number, node: string): Promise<PulseResult> {
  const script = `
const fs = require('fs');
const fds = ${JSON.stringify(lines.map((l) => `${sim.dir}/sim_gpio${l}/pull`))}.map((f) => fs.openSync(f, 'w'));
const sab = new Int32Array(new SharedArrayBuffer(4));
const sleepUntil = (t) => { for (;;) { const d = t - performance.now(); if (d <= 0) return; Atomics.wait(sab, 0, 0, d); } };
let late = 0, sent = 0;
const falls = [];
const t0 = performance.now();
const level = (value, ms) => {
  for (const fd of fds) fs.writeSync(fd, value, 0);
  const until = performance.now() + ms;
  sleepUntil(until);
  late = Math.max(late, performance.now() - until);
};
for (let i = 0; i < ${n}; i++) {
  falls.push(Date.now());
  level('pull-down', ${lowMs});
  sent++;
  level('pull-up', ${highMs});
}
console.log(JSON.stringify({ sent, ms: Math.round(performance.now() - t0), hz: Math.round(sent / ((performance.now() - t0) / 1000) * 10) / 10, maxLateMs: Math.round(late * 10) / 10, falls }));
`;
  const out = await vm.run(`cat > /root/pulse.cjs <<'__JS__'\n${script}\n__JS__\nnice -n -10 ${node} /root/pulse.cjs`, 600_000);
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as PulseResult;
}

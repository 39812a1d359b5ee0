/**
 * Third-party tools the interop tests drive (socat, mosquitto, pymodbus, mbpoll,
 * openssl). A missing tool fails the test with what to install, never a silent skip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const HINTS: Record<string, string> = {
  socat: 'apt-get install -y socat',
  mosquitto: 'apt-get install -y mosquitto',
  'systemd-analyze': 'apt-get install -y systemd',
  openssl: 'apt-get install -y openssl',
  mbpoll: 'apt-get install -y mbpoll',
  pymodbus: 'apt-get install -y python3-pymodbus (run with /usr/bin/python3)',
  promtool: 'apt-get install -y prometheus (it brings promtool)',
  'arm-linux-gnueabihf-g++': 'apt-get install -y g++-arm-linux-gnueabihf',
  'qemu-system-x86_64': 'apt-get install -y qemu-system-x86',
  'qemu-img': 'apt-get install -y qemu-utils',
  'mkfs.vfat': 'apt-get install -y dosfstools',
  mcopy: 'apt-get install -y mtools',
  mtype: 'apt-get install -y mtools',
  mdir: 'apt-get install -y mtools',
  mmd: 'apt-get install -y mtools',
  debootstrap: 'apt-get install -y debootstrap',
};

const SEARCH = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin'];

/** Absolute path of `tool`, or throws with the package to install. */
export function requireTool(tool: string): string {
  if (tool === 'pymodbus') {
    const r = spawnSync('/usr/bin/python3', ['-c', 'import pymodbus'], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`pymodbus is missing for /usr/bin/python3 — install it: ${HINTS.pymodbus}`);
    return '/usr/bin/python3';
  }
  for (const dir of SEARCH) {
    const p = `${dir}/${tool}`;
    if (existsSync(p)) return p;
  }
  throw new Error(`${tool} is not installed — install it: ${HINTS[tool] ?? `apt-get install -y ${tool}`}`);
}

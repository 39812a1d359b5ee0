// `citygate probe gpio …` end to end: the real CLI in a child process, against sysfs
// trees built by the test (hidden --sysfs-root), the technician's view of each failure.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TREES, buildTree } from './fixtures/tree.js';
import { assertNobodyCanReadCheckout } from '../../helpers/as-nobody.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(REPO, 'bin', 'citygate.js');

function cli(args: string[], opts: { uid?: number } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const bcm2711 = () => TREES['bcm2711-bookworm'] ?? [];

describe('citygate probe gpio', { timeout: 90_000 }, () => {
  it('info: shows the controller and the sysfs base', () => {
    const r = cli(['probe', 'gpio', 'info', '--sysfs-root', buildTree(TREES['rp1-pi5'] ?? [])]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('header GPIO: pinctrl-rp1; BCM pin N is sysfs gpio571+N (BCM 17 = gpio588)');
  });

  it('info on a board that is not a Pi: every chip with its /dev name, and how to name lines', () => {
    const r = cli(['probe', 'gpio', 'info', '--sysfs-root', buildTree(TREES['gpio-sim-qemu'] ?? [])]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('gpiochip504  base 504  ngpio 8  gpio-sim.0-node0  (/dev/gpiochip1)');
    expect(r.stdout).toContain('no Raspberry Pi controller (pinctrl-*): name lines by chip and offset');
  });

  it('set --chip: drives a chip line by label, and names a missing line with the chip size', () => {
    const root = buildTree(TREES['gpio-sim-qemu'] ?? [], { exported: [508] });
    const r = cli(['probe', 'gpio', 'set', '4', '1', '--chip', 'gpio-sim.0-node0', '--sysfs-root', root]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('gpio-sim.0-node0 line 4 (sysfs gpio508, gpio-sim.0-node0 base 504) set to 1; reads back 1');
    expect(readFileSync(join(root, 'gpio508', 'value'), 'utf8')).toBe('1');
    const bad = cli(['probe', 'gpio', 'set', '9', '1', '--chip', 'gpiochip1', '--sysfs-root', root]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('line 9 does not exist on GPIO chip gpiochip1, which has 8 lines (offsets 0–7)');
  });

  it('set: drives BCM 18 as sysfs gpio530 on a Bookworm Pi 4', () => {
    const root = buildTree(bcm2711(), { exported: [530] });
    const r = cli(['probe', 'gpio', 'set', '18', '1', '--sysfs-root', root]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('GPIO 18 (sysfs gpio530, pinctrl-bcm2711 base 512) set to 1; reads back 1');
    expect(r.stdout).toContain('note: GPIO 18 was already exported');
    expect(readFileSync(join(root, 'unexport'), 'utf8')).toBe('');
    expect(readFileSync(join(root, 'gpio530', 'direction'), 'utf8')).toBe('out');
    expect(readFileSync(join(root, 'gpio530', 'value'), 'utf8')).toBe('1');
  });

  it('watch: prints edges with timestamps and counts debounced pulses', async () => {
    const root = buildTree(bcm2711(), { exported: [529] });
    const value = join(root, 'gpio529', 'value');
    writeFileSync(value, '1\n');
    const child = spawn(process.execPath, [BIN, 'probe', 'gpio', 'watch', '17', '--duration', '5s', '--debounce', '30ms', '--sysfs-root', root], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`watch never started: ${stdout} ${stderr}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('level 1')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    // two tips, each held 400 ms (the file port polls every 5 ms; generous for a loaded CI box)
    for (let i = 0; i < 2; i++) {
      writeFileSync(value, '0\n');
      await sleep(400);
      writeFileSync(value, '1\n');
      await sleep(400);
    }
    const status = await new Promise<number | null>((r) => child.on('exit', r));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/watching GPIO 17 \(sysfs gpio529, pinctrl-bcm2711 base 512\): counting falling edges, debounce 30ms; for 5s/);
    expect(stdout).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}\+\d+\.\d{3}s {2}edge {2}→ 0 \(falling\)/);
    expect(stdout).toContain('pulse 2 ');
    expect(stdout).toContain('4 edges, 2 pulses counted, 0 bounce bursts rejected');
  });

  it('says sysfs GPIO is missing, exit 1, no stack trace', () => {
    const root = buildTree([]);
    rmSync(root, { recursive: true });
    const r = cli(['probe', 'gpio', 'watch', '17', '--duration', '1s', '--sysfs-root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^citygate: sysfs GPIO is not available: .* does not exist — .*CONFIG_GPIO_SYSFS.*inputs and pulse counters can use the kernel.s GPIO character device instead: `backend: gpiomon`/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('tells a user outside group gpio what to run', () => {
    const root = buildTree(bcm2711());
    const asRoot = process.getuid?.() === 0;
    if (asRoot) assertNobodyCanReadCheckout();
    chmodSync(join(root, 'export'), asRoot ? 0o644 : 0o444);
    const r = cli(['probe', 'gpio', 'set', '18', '1', '--sysfs-root', root], asRoot ? { uid: 65534 } : {});
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/permission denied writing .*export .*add it to group gpio: `sudo usermod -aG gpio \S+`/);
  });

  it('rejects a physical pin number or a bad level as a user error', () => {
    const root = buildTree(bcm2711());
    const r = cli(['probe', 'gpio', 'set', '60', '1', '--sysfs-root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('expected a BCM GPIO number like 17, got "60"');
    const r2 = cli(['probe', 'gpio', 'set', '18', 'maybe', '--sysfs-root', root]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain('expected a level 0 or 1');
  });
});

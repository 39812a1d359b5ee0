/**
 * One qemu guest for the machine test: Debian's kernel with systemd as PID 1 on a
 * qcow2 overlay of the cached base image (test/machine/image.sh), so every test run
 * starts from a clean disk and the base is never written.
 *
 * - TCG only (`-accel tcg`, 2 vCPUs at most): KVM on the test machines does not boot
 *   Debian's kernel; TCG does, in about 15 s.
 * - The kernel command line is read from the boot partition's cmdline.txt at every
 *   power-on (bootfs.ts), as a Pi's firmware does.
 * - `-no-reboot`: a reboot inside the guest ends qemu; `powerOn()` again is the next boot.
 * - `powerCut()` is SIGKILL of qemu: the guest's page cache is lost, like a power cut;
 *   what qemu had already written to the overlay stays (see docs/machine.md for what
 *   that does not model).
 * - Control: the image's machine-agent socket (a root shell per connection, port 2222
 *   in the guest), forwarded from a free port on the host's 127.0.0.1 only.
 * - ttyS0 (kernel and systemd console) goes to console-<n>.log in the work dir.
 * - QMP on `qmp.sock` in the work dir (test/machine/qmp.ts): unplug and plug back devices;
 *   `extraArgs` adds devices (a second UART on a host pty, a USB serial adapter …).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../helpers/tools.js';
import { freePort } from '../helpers/net.js';
import type { BootFs } from './bootfs.js';

const IMAGE_SH = fileURLToPath(new URL('./image.sh', import.meta.url));

export interface BaseImage {
  dir: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  /** Seconds the image took to build when it was built (cached runs reuse it). */
  buildSeconds: number;
  /** Whether this call built it (false: taken from the cache). */
  built: boolean;
}

/** The cached base image, built first if needed (needs root, debootstrap, Debian's mirror). */
export function baseImage(): BaseImage {
  requireTool('debootstrap');
  requireTool('mkfs.ext4');
  const t0 = Date.now();
  const r = spawnSync('bash', [IMAGE_SH], { encoding: 'utf8', timeout: 45 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`test/machine/image.sh failed (${r.status ?? r.signal})`);
  const dir = r.stdout.trim().split('\n').pop() ?? '';
  const rootfs = join(dir, 'rootfs.img');
  if (!existsSync(rootfs)) throw new Error(`test/machine/image.sh printed ${dir}, which holds no rootfs.img`);
  const buildSeconds = Number(readFileSync(join(dir, 'build-seconds'), 'utf8'));
  return { dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), rootfs, buildSeconds, built: Date.now() - t0 > 60_000 };
}

export interface ShResult {
  code: number;
  out: string;
}

export class Vm {
  private proc: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  private boots = 0;
  agentPort = 0;
  readonly overlay: string;
  /**
   * qemu's -drive for the root disk: the qcow2 overlay, or (the drive's side of the power
   * cuts) an NBD URL served by test/machine/crash-drive.ts. Takes effect at the next power-on.
   */
  rootDrive: string;

  constructor(
    readonly base: BaseImage,
    readonly work: string,
    readonly bootfs: BootFs,
    readonly memoryMb = 1024,
    readonly extraArgs: string[] = [],
  ) {
    this.overlay = join(work, 'disk.qcow2');
    execFileSync(requireTool('qemu-img'), ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base.rootfs, this.overlay], { timeout: 30_000 });
    this.rootDrive = `file=${this.overlay},if=virtio,format=qcow2`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** qemu's QMP socket (a unix socket, present while the guest runs). */
  get qmpSocket(): string {
    return join(this.work, 'qmp.sock');
  }

  /** The console log of the current (or last) boot. */
  get consoleLog(): string {
    return join(this.work, `console-${this.boots}.log`);
  }

  /** Powers the guest on with the boot partition's cmdline.txt; resolves once qemu runs. */
  async powerOn(): Promise<void> {
    if (this.running) throw new Error('the guest is already running');
    this.boots += 1;
    this.agentPort = await freePort();
    const args = [
      '-accel', 'tcg', '-smp', '2', '-m', String(this.memoryMb),
      '-nodefaults', '-display', 'none', '-no-reboot', '-rtc', 'base=utc',
      '-kernel', this.base.kernel, '-initrd', this.base.initrd, '-append', this.bootfs.cmdline(),
      '-drive', this.rootDrive,
      '-drive', `file=${this.bootfs.file},if=virtio,format=raw`,
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${this.agentPort}-:2222`,
      '-device', 'virtio-net-pci,netdev=n0',
      '-device', 'virtio-rng-pci',
      '-serial', `file:${this.consoleLog}`,
      '-qmp', `unix:${this.qmpSocket},server=on,wait=off`,
      ...this.extraArgs,
    ];
    const proc = spawn(requireTool('qemu-system-x86_64'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    this.proc = proc;
    this.exit = new Promise((resolve) => proc.once('exit', () => resolve()));
    await new Promise((r) => setTimeout(r, 500));
    if (!this.running) throw new Error(`qemu did not start: ${stderr}`);
  }

  /** Runs a shell script as root in the guest; output is stdout and stderr together. */
  sh(script: string, timeoutMs = 60_000): Promise<ShResult> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.agentPort, '127.0.0.1');
      let out = '';
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`guest command timed out after ${timeoutMs} ms: ${script.slice(0, 200)}\n${out}`));
      }, timeoutMs);
      sock.on('data', (d: Buffer) => (out += d.toString()));
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.on('close', () => {
        clearTimeout(timer);
        const m = /__rc=(\d+)\n?$/.exec(out);
        if (!m) return reject(new Error(`guest agent closed without an exit code: ${out.slice(-500) || '(no output)'}`));
        resolve({ code: Number(m[1]), out: out.slice(0, m.index) });
      });
      sock.end(`{\n${script}\n} </dev/null 2>&1; echo "__rc=$?"\n`);
    });
  }

  /** Like sh(), but a non-zero exit is an error; returns the output. */
  async run(script: string, timeoutMs = 60_000): Promise<string> {
    const r = await this.sh(script, timeoutMs);
    if (r.code !== 0) throw new Error(`guest command failed (${r.code}): ${script.slice(0, 300)}\n${r.out}`);
    return r.out;
  }

  /** Waits until the guest's agent answers (systemd reached sockets.target and the network is up). */
  async waitForAgent(timeoutMs = 240_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      if (!this.running) throw new Error(`the guest stopped while booting (console: ${this.consoleLog})`);
      try {
        const r = await this.sh('echo up', 10_000);
        if (r.out.trim() === 'up') return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`the guest's agent did not answer within ${timeoutMs} ms (${last}; console: ${this.consoleLog})`);
  }

  /** Power cut: SIGKILL qemu (the guest's page cache is lost). */
  async powerCut(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill('SIGKILL');
    await this.exit;
  }

  /** Waits for the guest to power off or reboot (qemu ends: -no-reboot). */
  async waitPowerOff(timeoutMs = 240_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the guest did not power off within ${timeoutMs} ms (console: ${this.consoleLog})`)), timeoutMs);
    });
    try {
      await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A clean shutdown from inside (systemctl poweroff), falling back to a cut after the timeout. */
  async shutdown(timeoutMs = 120_000): Promise<void> {
    if (!this.running) return;
    await this.sh('systemctl --no-block poweroff', 10_000).catch(() => undefined);
    await this.waitPowerOff(timeoutMs).catch(() => this.powerCut());
  }
}

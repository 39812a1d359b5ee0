/**
 * A shaped network link between a gateway and a broker, built from Linux network
 * namespaces, for the slow-and-lossy-link tests (test/links/, docs/links.md).
 *
 *   [cg-<pid>-gw] 10.201.X.1 ──veth── [cg-<pid>-rt] ──veth── 10.201.X.2 [cg-<pid>-br]
 *                                      link shaping                          │ veth, unshaped
 *                                                         10.201.X.5 (this namespace: the subscriber)
 *
 * The gateway runs in `gw` (`ip netns exec`), the broker in `br`. Shaping (delay,
 * jitter, loss, rate, per direction) is done in `rt`, by default by
 * test/links/linkemu.py, a user-space bridge with netem's model: it runs on any kernel
 * (kernels built without modules, as in some VMs, have no sch_netem) and gives the same
 * figures everywhere. LINKS_SHAPER=netem uses `tc qdisc … netem` on the router's veth
 * ends and a kernel bridge instead (fails clearly when the kernel lacks sch_netem).
 * The subscriber that checks delivery
 * reaches the broker over a third, never-shaped veth from this (the test's) namespace.
 *
 * Bytes on the wire are the gateway veth's own counters (both directions, Ethernet
 * frames: TCP/IP headers, TLS records and MQTT framing included).
 *
 * Contract: needs root and iproute2 (`ip`, `tc`) and /usr/bin/python3 for the
 * user-space shaper; `LinkLab.create()` throws a clear error otherwise. Everything is
 * removed by `destroy()`, at process exit, and by `sweepStaleLabs()` for namespaces
 * left by a crashed run (their pid is gone).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const EMULATOR = fileURLToPath(new URL('../links/linkemu.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** One direction of the link. Zero everywhere: an unshaped link. */
export interface LinkShape {
  delayMs?: number;
  /** Uniform ± around delayMs. */
  jitterMs?: number;
  /** 0..1, each packet independently. */
  loss?: number;
  /** kbit/s; 0 or absent: unlimited. */
  rateKbit?: number;
}

export type Shaper = 'netem' | 'user';

function tool(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  throw new Error(`${name} is not installed — the link tests need iproute2: apt-get install -y iproute2`);
}

function run(argv: string[], allowFail = false): string {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0 && !allowFail) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout ?? '';
}

/** Root, ip and tc present; throws with what is missing. */
export function requireLinkLabPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('the link tests create network namespaces: run them as root (CI runs as root; locally: sudo npm run test:links)');
  tool('ip');
  tool('tc');
}

/** Does this kernel have the netem qdisc? (Probed in a throwaway namespace.) */
export function kernelHasNetem(): boolean {
  const ip = tool('ip');
  const ns = `cg-${process.pid}-probe`;
  run([ip, 'netns', 'add', ns]);
  try {
    const r = spawnSync(tool('tc'), ['-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { encoding: 'utf8', timeout: 10_000 });
    return r.status === 0;
  } finally {
    run([ip, 'netns', 'del', ns], true);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function deleteNamespace(ns: string): void {
  const ip = tool('ip');
  for (const pid of run([ip, 'netns', 'pids', ns], true).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  run([ip, 'netns', 'del', ns], true);
}

/** Remove `cg-<pid>-*` namespaces whose creating process is gone (a crashed run). Returns their names. */
export function sweepStaleLabs(): string[] {
  const removed: string[] = [];
  for (const line of run([tool('ip'), 'netns', 'list'], true).split('\n')) {
    const m = /^(cg-(\d+)-[a-z]+)\b/.exec(line.trim());
    if (!m || pidAlive(Number(m[2]))) continue;
    deleteNamespace(m[1] as string);
    removed.push(m[1] as string);
  }
  return removed;
}

/** A free 10.201.X.0/29 (two /30s) (nothing on this host uses 10.201.X.*), preferring X = pid % 256. */
function pickSubnet(): number {
  const used = run([tool('ip'), '-o', '-4', 'addr', 'show'], true);
  for (let i = 0; i < 256; i++) {
    const x = (process.pid + i) % 256;
    if (!used.includes(`10.201.${x}.`)) return x;
  }
  throw new Error('no free 10.201.X.0/29 for a link lab');
}

export interface WireCounters {
  /** Bytes the gateway sent (frames leaving its veth). */
  tx: number;
  /** Bytes the gateway received. */
  rx: number;
}

const live = new Set<LinkLab>();
process.once('exit', () => {
  for (const lab of live) lab.destroySync();
});

export class LinkLab {
  readonly gwNs: string;
  readonly rtNs: string;
  readonly brNs: string;
  readonly gwIp: string;
  readonly brIp: string;
  /** The broker's address on the unshaped veth to this namespace (for the subscriber). */
  readonly brTapIp: string;
  readonly shaper: Shaper;
  private readonly ifGw: string;
  private readonly ifGwPeer: string;
  private readonly ifBr: string;
  private readonly ifBrPeer: string;
  private readonly ifTap: string;
  private emu: ChildProcess | undefined;
  private emuOut = '';
  private destroyed = false;

  private constructor(shaper: Shaper) {
    const p = process.pid;
    this.gwNs = `cg-${p}-gw`;
    this.rtNs = `cg-${p}-rt`;
    this.brNs = `cg-${p}-br`;
    this.ifGw = `cg${p}g`;
    this.ifGwPeer = `cg${p}ga`;
    this.ifBr = `cg${p}b`;
    this.ifBrPeer = `cg${p}ba`;
    this.ifTap = `cg${p}t`;
    const x = pickSubnet();
    this.gwIp = `10.201.${x}.1`;
    this.brIp = `10.201.${x}.2`;
    this.brTapIp = `10.201.${x}.6`;
    this.shaper = shaper;
  }

  /** Sweep stale labs, build the three namespaces and the links, start the shaper. */
  static async create(): Promise<LinkLab> {
    requireLinkLabPrerequisites();
    sweepStaleLabs();
    const forced = process.env.LINKS_SHAPER;
    if (forced && forced !== 'netem' && forced !== 'user') throw new Error(`LINKS_SHAPER=${forced}: expected netem or user`);
    const shaper: Shaper = (forced as Shaper | undefined) ?? 'user';
    if (shaper === 'netem' && !kernelHasNetem()) throw new Error('LINKS_SHAPER=netem: this kernel has no netem qdisc (sch_netem); use the default user-space shaper');
    if (shaper === 'user' && !existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the user-space link shaper needs it (apt-get install -y python3), or use a kernel with sch_netem`);
    const lab = new LinkLab(shaper);
    live.add(lab);
    try {
      await lab.build();
    } catch (err) {
      lab.destroySync();
      throw err;
    }
    return lab;
  }

  private ip(...args: string[]): string {
    return run([tool('ip'), ...args]);
  }

  private async build(): Promise<void> {
    const x = this.gwIp.split('.')[2];
    for (const ns of [this.gwNs, this.rtNs, this.brNs]) {
      this.ip('netns', 'add', ns);
      this.ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    this.ip('link', 'add', this.ifGw, 'netns', this.gwNs, 'type', 'veth', 'peer', 'name', this.ifGwPeer, 'netns', this.rtNs);
    this.ip('link', 'add', this.ifBr, 'netns', this.brNs, 'type', 'veth', 'peer', 'name', this.ifBrPeer, 'netns', this.rtNs);
    this.ip('link', 'add', this.ifTap, 'type', 'veth', 'peer', 'name', `${this.ifBr}t`, 'netns', this.brNs);
    this.ip('-n', this.gwNs, 'addr', 'add', `${this.gwIp}/30`, 'dev', this.ifGw);
    this.ip('-n', this.brNs, 'addr', 'add', `${this.brIp}/30`, 'dev', this.ifBr);
    this.ip('addr', 'add', `10.201.${x}.5/30`, 'dev', this.ifTap);
    this.ip('-n', this.brNs, 'addr', 'add', `${this.brTapIp}/30`, 'dev', `${this.ifBr}t`);
    // One MSS per packet: frames stay wire-sized (the user-space shaper forwards frames as
    // they are; a 64 KiB TSO super-frame would not fit the other veth).
    this.ip('-n', this.gwNs, 'link', 'set', this.ifGw, 'gso_max_segs', '1');
    this.ip('-n', this.brNs, 'link', 'set', this.ifBr, 'gso_max_segs', '1');
    for (const [ns, dev] of [[this.gwNs, this.ifGw], [this.brNs, this.ifBr], [this.brNs, `${this.ifBr}t`], [this.rtNs, this.ifGwPeer], [this.rtNs, this.ifBrPeer]] as const) {
      this.ip('-n', ns, 'link', 'set', dev, 'up');
    }
    this.ip('link', 'set', this.ifTap, 'up');
    if (this.shaper === 'netem') {
      // A kernel bridge in the router namespace; netem on the two router-side ends.
      this.ip('-n', this.rtNs, 'link', 'add', 'br0', 'type', 'bridge');
      this.ip('-n', this.rtNs, 'link', 'set', this.ifGwPeer, 'master', 'br0');
      this.ip('-n', this.rtNs, 'link', 'set', this.ifBrPeer, 'master', 'br0');
      this.ip('-n', this.rtNs, 'link', 'set', 'br0', 'up');
    } else {
      await this.startEmulator();
    }
  }

  private async startEmulator(): Promise<void> {
    this.ip('-n', this.rtNs, 'link', 'set', this.ifGwPeer, 'promisc', 'on');
    this.ip('-n', this.rtNs, 'link', 'set', this.ifBrPeer, 'promisc', 'on');
    const p = spawn(tool('ip'), ['netns', 'exec', this.rtNs, PYTHON, EMULATOR, this.ifGwPeer, this.ifBrPeer], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.emu = p;
    p.stdout?.on('data', (d: Buffer) => (this.emuOut += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (this.emuOut += d.toString()));
    await this.waitEmu(/"ready"/, 10_000);
  }

  private async waitEmu(re: RegExp, ms: number, from = 0): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const text = this.emuOut.slice(from);
      const m = re.exec(text);
      if (m) return text.slice(m.index);
      if (this.emu?.exitCode !== null || Date.now() > end) {
        throw new Error(`link shaper (linkemu.py) ${this.emu?.exitCode !== null ? `exited (${this.emu?.exitCode})` : 'did not answer'}: ${this.emuOut.slice(-1000)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async emuCommand(cmd: Record<string, unknown>): Promise<string> {
    const from = this.emuOut.length;
    this.emu?.stdin?.write(`${JSON.stringify(cmd)}\n`);
    const text = await this.waitEmu(/\{"ok": true.*\}\n/, 5000, from);
    return text.split('\n')[0] ?? '';
  }

  /** `argv` prefixed to run in the gateway's namespace. */
  inGateway(argv: string[]): string[] {
    return [tool('ip'), 'netns', 'exec', this.gwNs, ...argv];
  }

  /** `argv` prefixed to run in the broker's namespace. */
  inBroker(argv: string[]): string[] {
    return [tool('ip'), 'netns', 'exec', this.brNs, ...argv];
  }

  /**
   * Shape the link: `up` is gateway → broker, `down` broker → gateway (default: the same
   * as up). Replaces any earlier shape.
   */
  async shape(up: LinkShape, down: LinkShape = up): Promise<void> {
    if (this.shaper === 'user') {
      for (const [dir, s] of [['ab', up], ['ba', down]] as const) {
        await this.emuCommand({ dir, delay_ms: s.delayMs ?? 0, jitter_ms: s.jitterMs ?? 0, loss: s.loss ?? 0, rate_kbit: s.rateKbit ?? 0, limit: 1000 });
      }
      return;
    }
    // netem shapes egress: up leaves the router towards the broker, down towards the gateway.
    for (const [dev, s] of [[this.ifBrPeer, up], [this.ifGwPeer, down]] as const) {
      const args = ['-n', this.rtNs, 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'limit', '1000'];
      if (s.delayMs || s.jitterMs) args.push('delay', `${s.delayMs ?? 0}ms`, `${s.jitterMs ?? 0}ms`, 'distribution', 'uniform');
      if (s.loss) args.push('loss', `${(s.loss * 100).toFixed(3)}%`);
      if (s.rateKbit) args.push('rate', `${s.rateKbit}kbit`);
      run([tool('tc'), ...args]);
    }
  }

  /** Black-hole the link both ways (connections stay open, nothing passes). */
  async cut(): Promise<void> {
    await this.shape({ loss: 1 });
  }

  /** Shaper statistics (user-space shaper only): frames in/out/lost per direction. */
  async shaperStats(): Promise<string> {
    return this.shaper === 'user' ? this.emuCommand({ stats: true }) : run([tool('tc'), '-n', this.rtNs, '-s', 'qdisc', 'show'], true);
  }

  /** The gateway veth's byte counters. */
  counters(): WireCounters {
    const out = run([tool('ip'), '-n', this.gwNs, '-s', '-j', 'link', 'show', 'dev', this.ifGw]);
    const [link] = JSON.parse(out) as [{ stats64: { rx: { bytes: number }; tx: { bytes: number } } }];
    return { tx: link.stats64.tx.bytes, rx: link.stats64.rx.bytes };
  }

  /** Stop the shaper, kill what runs in the namespaces, delete them (and the veths). */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    this.emu?.stdin?.end();
    this.emu?.kill('SIGKILL');
    for (const ns of [this.gwNs, this.brNs, this.rtNs]) deleteNamespace(ns);
    run([tool('ip'), 'link', 'del', this.ifTap], true);
  }

  async destroy(): Promise<void> {
    this.destroySync();
    await new Promise((r) => setTimeout(r, 50));
  }
}

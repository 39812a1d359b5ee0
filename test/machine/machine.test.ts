/**
 * citygate on a real machine (docs/machine.md): Debian bookworm under qemu with systemd
 * as PID 1, installed the way a technician does it — a boot partition with `citygate/`
 * (config, secrets, CA, the release bundle, firstboot.sh) and `systemd.run=` in
 * cmdline.txt — reporting over mqtts to a Mosquitto this test runs on the host.
 *
 * One guest, one story, in order: first boot provisions and reboots into service; the
 * unit as shipped reaches READY under systemd and passes its own security bar; what the
 * sandboxed service can see; kill -9 and Restart=always; systemctl reload; the
 * watchdog against a hung event loop; a clean reboot. Every step accounts for seq on the
 * host broker: no seq carries two readings, and none goes missing unannounced.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/gateway-config.js';
import { seededRandom } from '../../src/core/seeded-random.js';
import { createPrivateKey } from 'node:crypto';
import { generateKeys } from '../../src/release/signature.js';
import { guestBundle, nextVersion, rebundle, resigned, type Bundle, type Release } from './bundle.js';
import type { BootFs } from './bootfs.js';
import { Collector } from './collector.js';
import { BASE_CMDLINE, GATEWAY_ID, MQTT_PASSWORD, gatewayYaml, startSite, writeCard, type Site } from './card.js';
import { cutPlan, powerCut, type CutPlan, type CutResult } from './cuts.js';
import { CrashDrive, type CrashState } from './crash-drive.js';
import { serviceState, waitForService } from './guest.js';
import { baseImage, Vm, type BaseImage } from './vm.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const work = tempDir('cg-machine-');
let base: BaseImage;
let site: Site;
let bundle: Bundle;
/** The update step's releases: a newer one signed by a trusted key, and the same signed by a stranger. */
let update: Release;
let strangers: Release;
/** A release newer still, for the power cut right after an update's switch (the crash drive). */
let update2: Release;
let card: BootFs;
let vm: Vm;
let drive: CrashDrive | undefined;
const collector = new Collector(`citygate/${GATEWAY_ID}`);
const times: Record<string, number> = {};

beforeAll(async () => {
  const t0 = Date.now();
  base = baseImage();
  times.image_s = Math.round((Date.now() - t0) / 1000);
  site = await startSite();
  await collector.start(`mqtts://127.0.0.1:${site.broker.port}`, site.hostClient);
  const t1 = Date.now();
  bundle = await guestBundle(work);
  const updateKey = generateKeys();
  const version = nextVersion((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
  update = await rebundle(bundle, join(work, 'update'), version, createPrivateKey(updateKey.privatePem));
  strangers = await resigned(update, join(work, 'stranger'), createPrivateKey(generateKeys().privatePem));
  update2 = await rebundle(bundle, join(work, 'update2'), nextVersion(version), createPrivateKey(updateKey.privatePem));
  times.bundle_s = Math.round((Date.now() - t1) / 1000);
  // The releases for the update step ride on the card outside citygate/ (first boot ignores them).
  const files: [string, string][] = [];
  for (const [r, dir] of [[update, 'update'], [strangers, 'update/stranger'], [update2, 'update2']] as const) {
    for (const f of [r.tgz, r.sig]) files.push([f, `${dir}/${basename(f)}`]);
  }
  card = writeCard(join(work, 'bootfs.img'), site, bundle, gatewayYaml(site.broker.port), { keys: [{ id: updateKey.id, publicPem: updateKey.publicPem }], files });
  vm = new Vm(base, work, card);
});

afterAll(async () => {
  await vm?.powerCut();
  await drive?.close();
  await collector.stop();
  await site?.broker.stop();
  console.log(`machine test times: ${JSON.stringify(times)} (base image ${base?.built ? 'built' : 'cached'}, built in ${base?.buildSeconds} s)`);
  if (process.env.KEEP === '1') console.log(`kept ${work} and ${site?.dir}`);
  else for (const d of [work, site?.dir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** How long a seq below the newest may still be on its way: devices publish separately, and live readings go before the backlog. */
const STRAGGLER_MS = 60_000;

/**
 * No seq below the newest delivered one is missing unannounced, and none carries two
 * readings. A gap near the head is allowed STRAGGLER_MS to fill (another device's message,
 * the backlog lane after the live one: seen once, seq 2665 of a later one); one that stays is loss.
 */
async function expectSeqAccounted(what: string): Promise<number> {
  const upTo = collector.maxSeq + 1;
  await collector.waitFor(() => collector.missing(upTo).length === 0, STRAGGLER_MS, `${what}: seqs below ${upTo} delivered or announced`).catch(() => undefined);
  expect(collector.conflicts, `${what}: seqs given to two readings`).toEqual([]);
  expect(collector.missing(upTo), `${what}: seqs neither delivered nor announced lost`).toEqual([]);
  return upTo;
}

async function readingsPast(seq: number, what: string, timeoutMs = 180_000): Promise<void> {
  await collector.waitFor(() => collector.maxSeq > seq + 10, timeoutMs, `${what}: readings past seq ${seq}`);
}

describe('a real machine: first boot from the card, then the unit as shipped under systemd', () => {
  it('first boot provisions from the boot partition, reports OK, takes the secrets off the card and reboots into service', async () => {
    const poweredOn = Date.now();
    await vm.powerOn();
    // firstboot.sh runs as systemd.run=, then systemd.run_success_action=reboot ends qemu (-no-reboot).
    await vm.waitPowerOff(900_000);
    times.first_boot_provisioning_s = Math.round((Date.now() - poweredOn) / 1000);
    const report = card.read('citygate/REPORT.txt');
    expect(report, report).toContain('result: OK');
    expect(report).toContain(`installed: ${bundle.id}`);
    expect(report).not.toContain(MQTT_PASSWORD);
    // Left on the card: no secret, no bundle; the public CA and certificate and the release
    // keys (public, kept so a later card edit can be checked against them).
    expect(card.list('citygate')).toEqual(['ca.pem', 'client.pem', 'firstboot.sh', 'gateway.yaml.applied', 'keys/', 'REPORT.txt'].sort());
    expect(card.cmdline()).toBe(BASE_CMDLINE);
    // The second power-on is an ordinary boot (the entry is gone from cmdline.txt).
    await vm.powerOn();
    await collector.waitFor(() => collector.firstReadingAt !== undefined, 600_000, 'the first reading on the host broker');
    times.power_on_to_first_reading_s = Math.round((collector.firstReadingAt! - poweredOn) / 1000);
    await vm.waitForAgent();
  });

  it('runs under systemd as PID 1, with the unit exactly as shipped, READY and within its security bar', async () => {
    expect((await vm.run('cat /proc/1/comm')).trim()).toBe('systemd');
    expect(await vm.run('cat /etc/systemd/system/citygate.service')).toBe(readFileSync(join(REPO, 'deploy/citygate.service'), 'utf8'));
    const st = await waitForService(vm, (s) => s.ActiveState === 'active' && s.SubState === 'running', 120_000);
    expect(st.Type).toBe('notify');
    // Type=notify: systemd logs "Started" only once READY=1 arrived.
    expect(await vm.run('journalctl -b -u citygate --no-pager -o cat')).toMatch(/Started citygate/);
    const sec = await vm.run('systemd-analyze security citygate.service --no-pager | tail -1');
    const m = /Overall exposure level for citygate\.service: ([\d.]+)/.exec(sec);
    expect(m, sec).not.toBeNull();
    times.security_exposure = Number(m![1]);
    expect(Number(m![1])).toBeLessThanOrEqual(2.0);
    await readingsPast(0, 'steady running');
    await expectSeqAccounted('first boot');
  });

  it('reports its vitals from inside the sandbox (health JSON)', async () => {
    await collector.waitFor(() => collector.health !== undefined, 60_000, 'a retained health payload');
    const system = collector.health!.system as Record<string, number | null>;
    console.log(`health.system seen by the sandboxed service: ${JSON.stringify(system)}`);
    for (const k of ['load_1m', 'mem_free_bytes', 'mem_total_bytes', 'rss_bytes', 'disk_free_bytes', 'disk_total_bytes']) {
      expect(system[k], `health.system.${k}`).not.toBeNull();
    }
    expect(system.mem_total_bytes).toBeGreaterThan(512 * 1024 * 1024);
  });

  let killedAtSeq = -1;
  let eventsBeforeKill = 0;
  it('kill -9: Restart=always brings it back, and seq continues with none reused', async () => {
    const before = await serviceState(vm);
    killedAtSeq = collector.maxSeq;
    eventsBeforeKill = collector.events.length;
    await vm.run(`kill -9 ${before.MainPID}`);
    const after = await waitForService(vm, (s) => s.ActiveState === 'active' && s.MainPID !== before.MainPID && s.MainPID !== '0', 120_000);
    expect(Number(after.NRestarts)).toBe(Number(before.NRestarts) + 1);
    await readingsPast(killedAtSeq, 'after kill -9');
    await expectSeqAccounted('kill -9');
  });

  it('tells the crash of the process from a reboot: the ledger holds the kernel boot id, and kill -9 announced no unclean_shutdown', async () => {
    // Needs the boot id inside the sandbox (ProcSubset=pid hides /proc/sys/kernel/random/boot_id).
    // The ledger's text, whatever its layout, must name this boot (dashed, as /proc has it).
    const bootId = (await vm.run('cat /proc/sys/kernel/random/boot_id')).trim();
    const ledger = await vm.run('cat /var/lib/citygate/seq.ledger');
    const falseLoss = collector.events.slice(eventsBeforeKill).filter((e) => e.type === 'buffer_lost');
    expect({ ledgerNamesThisBoot: ledger.includes(bootId), lossAfterKill: falseLoss }, ledger).toEqual({ ledgerNamesThisBoot: true, lossAfterKill: [] });
  });

  it('systemctl reload applies an edited config in place', async () => {
    const before = await serviceState(vm);
    const yaml = gatewayYaml(site.broker.port, ['  - { id: second, driver: sim, poll: 500ms, points: [ { name: m, wave: counter } ] }']);
    await vm.run(`cat > /etc/citygate/gateway.yaml.new <<'EOF'\n${yaml}EOF\nchmod 0640 /etc/citygate/gateway.yaml.new && chgrp citygate /etc/citygate/gateway.yaml.new && mv /etc/citygate/gateway.yaml.new /etc/citygate/gateway.yaml && systemctl reload citygate`);
    await collector.waitFor(() => collector.events.some((e) => e.type === 'config_applied' && (e.added as string[]).includes('second')), 120_000, 'config_applied adding "second"');
    await collector.waitFor(() => [...collector.delivered.values()].some((v) => v.startsWith('second/')), 120_000, 'readings of the added device');
    expect((await serviceState(vm)).MainPID).toBe(before.MainPID);
    await expectSeqAccounted('reload');
  });

  it('the watchdog (WatchdogSec=60, as shipped) kills and restarts a gateway whose event loop hangs', async () => {
    const before = await serviceState(vm);
    await vm.run(`cat > /run/hang-loop.mjs <<'EOF'\n${readFileSync(join(REPO, 'test/machine/hang-loop.mjs'), 'utf8')}EOF\n/opt/citygate/current/node/bin/node /run/hang-loop.mjs ${before.MainPID}`, 60_000);
    const hungAt = Date.now();
    const hungSeq = collector.maxSeq;
    // Still "active" while hung: only the missing pings can tell.
    expect((await serviceState(vm)).MainPID).toBe(before.MainPID);
    const after = await waitForService(vm, (s) => s.ActiveState === 'active' && s.MainPID !== before.MainPID && s.MainPID !== '0', 240_000);
    times.watchdog_restart_s = Math.round((Date.now() - hungAt) / 1000);
    expect(Number(after.NRestarts)).toBe(Number(before.NRestarts) + 1);
    expect(await vm.run('journalctl -b -u citygate --no-pager -o cat')).toMatch(/[Ww]atchdog timeout/);
    // Pings go every 20 s, so the last one came 0-20 s before the hang: systemd acts 40-60 s after it.
    expect(times.watchdog_restart_s).toBeGreaterThanOrEqual(35);
    await readingsPast(hungSeq, 'after the watchdog restart');
    await expectSeqAccounted('watchdog');
  });

  it('an update through the root helper as shipped (citygate-update.path, then the sandboxed citygate-update.service): a stranger-signed bundle is refused, a newer signed one installed behind its health gate', async () => {
    const current = async (): Promise<string> => (await vm.run('readlink /opt/citygate/current')).trim();
    const before = await current();
    const results = updateResults;
    await handOver('update/stranger', strangers);
    await collector.waitFor(() => results().length >= 1, 600_000, 'update_result for the stranger-signed bundle');
    const journal = (): Promise<string> => vm.run('journalctl -b -u citygate-update --no-pager -o cat | tail -30');
    expect(results()[0], await journal()).toMatchObject({ outcome: 'refused' });
    expect(await current()).toBe(before);

    const seq = collector.maxSeq;
    await handOver('update', update);
    await collector.waitFor(() => results().length >= 2, 900_000, 'update_result for the signed bundle');
    expect(results()[1], await journal()).toMatchObject({ outcome: 'updated' });
    expect(await current()).toBe(`releases/${update.id}`);
    await waitForService(vm, (st) => st.ActiveState === 'active', 180_000);
    await readingsPast(seq, 'after the update');
    await expectSeqAccounted('update');
  });

  it('a new gateway.yaml on the card of a running gateway: citygate-firstboot.service, sandboxed as shipped, applies it at the next boot', async () => {
    const seq = collector.maxSeq;
    await vm.shutdown();
    // The technician edits the card in a laptop: a device added.
    card.write('citygate/gateway.yaml', gatewayYaml(site.broker.port, ['  - { id: from-card, driver: sim, poll: 500ms, points: [ { name: c, wave: counter } ] }']));
    await vm.powerOn();
    await collector.waitFor(() => [...collector.delivered.values()].some((v) => v.startsWith('from-card/')), 600_000, 'readings of the device the card added');
    await vm.waitForAgent(600_000);
    const fb = await serviceState(vm, 'citygate-firstboot.service');
    const journal = await vm.run('journalctl -b -u citygate-firstboot --no-pager -o cat | tail -30');
    expect(fb.Result, journal).toBe('success');
    const report = card.read('citygate/REPORT.txt');
    expect(report, report).toContain('result: OK');
    expect(card.list('citygate')).toContain('gateway.yaml.applied');
    expect(card.list('citygate')).not.toContain('gateway.yaml');
    await readingsPast(seq, 'after the card edit');
    await expectSeqAccounted('card edit');
  });

  it('a clean reboot: the service comes back by itself and seq continues', async () => {
    const seq = collector.maxSeq;
    await vm.sh('systemctl --no-block reboot', 10_000);
    await vm.waitPowerOff(300_000);
    await vm.powerOn();
    await readingsPast(seq, 'after the reboot', 600_000);
    await vm.waitForAgent(600_000);
    await waitForService(vm, (s) => s.ActiveState === 'active', 180_000);
    await expectSeqAccounted('reboot');
    const { delivered, announced } = collector.account(collector.maxSeq + 1);
    console.log(`machine test: seqs 1..${collector.maxSeq}: ${delivered} delivered, ${announced} announced lost, ${collector.duplicates} duplicates`);
  });
});

/** The update_result events so far. */
function updateResults(): { outcome: string; detail?: string }[] {
  return collector.events.filter((e) => e.type === 'update_result') as unknown as { outcome: string; detail?: string }[];
}

/**
 * What the gateway's `update` command leaves after a download: the bundle, its .sig and
 * request.json in updates/, all the citygate user's. The path unit starts the root helper.
 * `from`: the bundle's folder on the card.
 */
function handOver(from: string, r: Release): Promise<string> {
  const name = basename(r.tgz);
  const dest = `/var/lib/citygate/updates/${name}`;
  const req = JSON.stringify({ bundle: dest, sha256: '', request_id: `machine-${r.id}`, requested_at: Date.now() });
  return vm.run(`runuser -u citygate -- sh -c 'mkdir -p /var/lib/citygate/updates && cp /boot/firmware/${from}/${name} /boot/firmware/${from}/${name}.sig /var/lib/citygate/updates/ && printf %s ${JSON.stringify(req).replace(/'/g, '')} > /var/lib/citygate/updates/.request.tmp && mv /var/lib/citygate/updates/.request.tmp /var/lib/citygate/updates/request.json'`, 120_000);
}

/** The files of a release tree (what build.sh hashes into its id): `find … | sha256sum` in `dir`. */
const TREE_DIGEST = "find dist node_modules node/bin -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64";

/** The tree digest of release `r` as its bundle holds it, computed on the host. */
function bundleDigest(r: Release, dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-C', dir, '-xzf', r.tgz], { timeout: 300_000 });
  return execFileSync('sh', ['-c', TREE_DIGEST], { cwd: join(dir, `citygate-${r.id}`), encoding: 'utf8', timeout: 300_000 }).trim();
}

/** A power cut now, on the crash drive; then power on and wait for new readings and the agent. */
async function cutOnDriveAndBoot(label: string): Promise<void> {
  const seq = collector.maxSeq;
  await vm.powerCut();
  const c = drive!.crash(rand);
  console.log(`${label} cut: ${c.pending} writes since the last flush, ${c.kept} reached the medium${c.torn ? `, one torn after ${c.torn.sectors} of ${c.torn.of} sectors` : ''}`);
  await vm.powerOn();
  await readingsPast(seq, `after the ${label} cut`, 600_000);
  await vm.waitForAgent(600_000);
}

/** After a series of cuts: settle, then every seq delivered or announced, and the figures for docs/machine.md. */
async function settleAndReport(label: string, plan: CutPlan, results: CutResult[]): Promise<void> {
  const last = collector.maxSeq;
  await readingsPast(last, `after the last ${label}`);
  const upTo = await expectSeqAccounted(`after the ${label}`);
  const acc = collector.account(upTo);
  const recover = results.map((r) => r.recoverS).sort((a, b) => a - b);
  const reasons: Record<string, number> = {};
  for (const a of collector.announced) reasons[`${a.type}/${a.reason}`] = (reasons[`${a.type}/${a.reason}`] ?? 0) + (a.last - a.first + 1);
  console.log(`${label}: ${results.length} (seed ${plan.seed}); seqs 1..${collector.maxSeq}: ${acc.delivered} delivered, ${acc.announced} announced lost ${JSON.stringify(reasons)}, ${acc.missing} missing, ${collector.duplicates} duplicates, ${collector.conflicts.length} conflicts; power-on to first new reading: median ${recover[Math.floor(recover.length / 2)] ?? '-'} s, max ${recover.at(-1) ?? '-'} s`);
  expect(acc.missing).toBe(0);
}

const plan = cutPlan();
const rand = seededRandom(plan.seed);
/** A cut and its boot take 1-3 min under TCG on a loaded host: the test's time grows with the cuts. */
const cutsTimeout = (cuts: number): number => 15 * 60_000 + cuts * 6 * 60_000;

/** The running account after a cut, so that a run stopped midway still says what it proved. */
function logAccount(label: string): void {
  const acc = collector.account(collector.maxSeq + 1);
  console.log(`${label}: seqs 1..${collector.maxSeq}: ${acc.delivered} delivered, ${acc.announced} announced lost, ${acc.missing} missing, ${collector.conflicts.length} given to two readings`);
}

describe('power cuts, bounded', () => {
  it(`${plan.cuts} power cuts while ingesting or draining: every seq delivered or announced lost, none given to two readings`, async () => {
    console.log(`power cuts: ${plan.cuts}, seed ${plan.seed} (MACHINE_SEED=${plan.seed} repeats the moments)`);
    const results: CutResult[] = [];
    for (let n = 1; n <= plan.cuts; n++) {
      results.push(await powerCut(n, vm, site.broker, collector, rand, (s) => console.log(s)));
      await expectSeqAccounted(`cut ${n}`);
      logAccount(`after cut ${n}`);
    }
    await settleAndReport('power cuts', plan, results);
  }, cutsTimeout(plan.cuts));
});

describe("the drive's side: a medium that loses what was not flushed and tears the write in flight", () => {
  it(`${plan.driveCuts} power cuts on the crash drive: the guest boots, the gateway resumes, every seq delivered or announced lost, none given to two readings`, async () => {
    await vm.shutdown();
    // The disk as the clean shutdown left it becomes the crash drive's base (never written).
    const raw = join(work, 'disk.raw');
    execFileSync('qemu-img', ['convert', '-O', 'raw', vm.overlay, raw], { timeout: 600_000 });
    rmSync(vm.overlay);
    drive = new CrashDrive(raw);
    vm.rootDrive = `file=${await drive.listen()},if=virtio,format=raw`;
    const seq = collector.maxSeq;
    await vm.powerOn();
    await readingsPast(seq, 'on the crash drive', 600_000);
    await vm.waitForAgent(600_000);
    const results: CutResult[] = [];
    const crashes: CrashState[] = [];
    const medium = (): string => {
      const c = drive!.crash(rand);
      crashes.push(c);
      return `${c.pending} writes since the last flush (flush ${c.flushesSoFar}), ${c.kept} reached the medium${c.torn ? `, one torn after ${c.torn.sectors} of ${c.torn.of} sectors` : ''}`;
    };
    // A random moment finds the drive's cache empty about half the time (ext4 and SQLite
    // flush often; the run before this rule failed its "the model must have bitten" check
    // that way): after its random delay each cut waits, up to 30 s, for the next write the
    // drive has not flushed, and the drive answers nothing after it, so the cut finds it there.
    const unflushed = async (): Promise<void> => {
      drive!.holdAtNextWrite();
      const until = Date.now() + 30_000;
      while (!drive!.held && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    };
    for (let n = 1; n <= plan.driveCuts; n++) {
      results.push(await powerCut(n, vm, site.broker, collector, rand, (s) => console.log(s), medium, unflushed));
      await expectSeqAccounted(`drive cut ${n}`);
      await waitForService(vm, (st) => st.ActiveState === 'active', 180_000);
      logAccount(`after drive cut ${n}`);
    }
    await settleAndReport('drive cuts', plan, results);
    const lost = crashes.reduce((a, c) => a + c.pending - c.kept - (c.torn ? 1 : 0), 0);
    console.log(`drive cuts: ${crashes.length}; writes lost from the drive's cache ${lost}, torn ${crashes.filter((c) => c.torn).length}, of ${crashes.reduce((a, c) => a + c.pending, 0)} pending at the cuts; ${drive.writes} writes and ${drive.flushes} flushes served`);
    // The model must have bitten: a drive that never held anything back proves nothing.
    expect(crashes.some((c) => c.pending > c.kept)).toBe(true);
  }, cutsTimeout(plan.driveCuts));

  it('a power cut right after an update switched `current`: the next boot runs a whole release (docs/field-notes.md#power-cut-after-an-update)', async () => {
    const digest = bundleDigest(update2, join(work, 'update2-tree'));
    const current = async (): Promise<string> => (await vm.run('readlink /opt/citygate/current')).trim();
    const before = await current();
    await handOver('update2', update2);
    // The root helper verifies, unpacks and switches; the cut lands as soon as the switch shows.
    const until = Date.now() + 900_000;
    while ((await current()) !== `releases/${update2.id}`) {
      if (Date.now() > until) throw new Error(`current still ${before} after 900 s: ${await vm.run('journalctl -b -u citygate-update --no-pager -o cat | tail -30')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await cutOnDriveAndBoot('update');
    await waitForService(vm, (st) => st.ActiveState === 'active', 180_000);
    // The switch was on the card before the cut (rename, then a directory fsync), and so was
    // every file it points at (the release was flushed before it): the new release, whole.
    expect(await current()).toBe(`releases/${update2.id}`);
    expect((await vm.run(`cd /opt/citygate/releases/${update2.id} && ${TREE_DIGEST}`, 300_000)).trim()).toBe(digest);
    await expectSeqAccounted('the cut after the update');
  }, 30 * 60_000);

  it('a power cut the moment a remote `config` was announced applied: the next boot runs the new config, its previous one kept as last-good', async () => {
    // Remote config as docs/operations.md has an operator allow it: `config` in commands.allow
    // (written as root, then a restart), /etc/citygate the gateway's, and a drop-in reopening it.
    const cardDevice = '  - { id: from-card, driver: sim, poll: 500ms, points: [ { name: c, wave: counter } ] }';
    const allowed = `${gatewayYaml(site.broker.port, [cardDevice])}commands: { allow: [ping, config] }\n`;
    await vm.run(
      [
        `cat > /etc/citygate/gateway.yaml <<'__YAML__'\n${allowed}__YAML__`,
        'chown citygate:citygate /etc/citygate /etc/citygate/gateway.yaml',
        'mkdir -p /etc/systemd/system/citygate.service.d',
        "printf '[Service]\\nReadWritePaths=/etc/citygate\\n' > /etc/systemd/system/citygate.service.d/remote-config.conf",
        'systemctl daemon-reload && systemctl restart citygate',
      ].join('\n'),
      180_000,
    );
    await waitForService(vm, (st) => st.ActiveState === 'active' && st.SubState === 'running', 180_000);
    await readingsPast(collector.maxSeq, 'after enabling remote config', 300_000);
    const wanted = `${gatewayYaml(site.broker.port, [cardDevice, '  - { id: by-command, driver: sim, poll: 500ms, points: [ { name: r, wave: counter } ] }'])}commands: { allow: [ping, config] }\n`;
    const ev0 = collector.events.length;
    await collector.publish('cmd/config', JSON.stringify({ id: 'machine-config-cut', args: { yaml: wanted } }));
    await collector.waitFor(() => collector.events.slice(ev0).some((e) => e.type === 'config_applied' && ((e.added as string[] | undefined) ?? []).includes('by-command')), 180_000, 'config_applied adding "by-command"');
    // Announced: the file is on the card. The power goes at once, with whatever the drive holds.
    await cutOnDriveAndBoot('config');
    expect(await vm.run('cat /etc/citygate/gateway.yaml')).toBe(wanted);
    expect(await vm.run('cat /etc/citygate/gateway.yaml.last-good')).toBe(allowed);
    const after = collector.readings.length;
    await collector.waitFor(() => collector.readings.slice(after).some((r) => r.device === 'by-command'), 300_000, 'readings of "by-command" after the boot');
    await expectSeqAccounted('the cut after the config command');
  }, 30 * 60_000);
});

describe('a broken gateway.yaml on a fresh card', () => {
  it('first boot reports it with file:line:col, removes the secrets, and leaves no gateway running, even after the next boot', async () => {
    await vm.shutdown();
    const dir = join(work, 'broken');
    mkdirSync(dir);
    // Line 3, column 10: a duration the schema refuses.
    const broken = gatewayYaml(site.broker.port).replace('health: { interval: 5s }', 'health: { interval: soon }');
    const card2 = writeCard(join(dir, 'bootfs.img'), site, bundle, broken);
    const vm2 = new Vm(base, dir, card2);
    try {
      await vm2.powerOn();
      // firstboot.sh fails: no reboot follows (systemd.run_success_action only); the REPORT is synced.
      await collector.waitFor(() => reportOf(card2).includes('result: FAILED'), 900_000, 'REPORT.txt with result: FAILED');
      const report = reportOf(card2);
      expect(report, report).toMatch(/gateway\.yaml:\d+:\d+/);
      expect(report).not.toContain(MQTT_PASSWORD);
      expect(card2.list('citygate')).not.toContain('env');
      expect(card2.list('citygate')).not.toContain('client.key');
      expect(card2.list('citygate')).toContain('gateway.yaml');
      await vm2.powerCut();
      // The technician reboots without fixing the card: still no gateway may run.
      await vm2.powerOn();
      await vm2.waitForAgent(600_000); // TCG on a loaded 2-core host: seen at 240 s and over
      await waitForService(vm2, (s) => s.ActiveState !== 'activating', 120_000, 'citygate-firstboot.service');
      // Give a wrongly enabled service time to show itself (it would start after the firstboot unit).
      await new Promise((r) => setTimeout(r, 20_000));
      const st = await serviceState(vm2);
      const journal = await vm2.run('journalctl -b -u citygate -u citygate-firstboot --no-pager -o cat | tail -20; systemctl is-enabled citygate.service || true');
      expect({ ActiveState: st.ActiveState, MainPID: st.MainPID, NRestarts: st.NRestarts }, journal).toEqual({ ActiveState: 'inactive', MainPID: '0', NRestarts: '0' });
      // Not enabled at boot: `disabled` as firstboot.sh leaves it; one run of three here read
      // `masked` instead (no more startable; its cause is not yet understood: docs/machine.md).
      expect(journal).toMatch(/\b(disabled|masked)\b/);
      expect(reportOf(card2)).toContain('result: FAILED');
    } finally {
      await vm2.powerCut();
    }
  });
});

/** REPORT.txt as the card has it now ('' while there is none). */
function reportOf(card: BootFs): string {
  try {
    return card.read('citygate/REPORT.txt');
  } catch {
    return '';
  }
}

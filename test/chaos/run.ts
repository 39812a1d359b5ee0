/**
 * `npm run test:chaos`: a real gateway (`citygate run`, child process, libfaketime)
 * with sim devices publishes through a proxy the harness controls to its own
 * Mosquitto; a persistent QoS 1 subscriber accounts for every seq while random faults
 * are injected for a bounded time and count (options.ts). Then everything is healed,
 * the backlog drained, and one line per fault kind printed. Exit 1 if any reading was
 * lost silently (unexplained gap, or lost before it had a seq), any seq was reused,
 * or the gateway misbehaved (exited by itself, did not start, failed a graceful stop,
 * expired readings by wall-clock arithmetic). Exit 2 if the run itself could not run.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { decodeDataPayload } from '../../src/uplink/encoding/decode.js';
import { stringify } from 'yaml';
import { seededRandom } from '../../src/core/seeded-random.js';
import { Mosquitto, closeClient, persistentSubscriber } from '../helpers/mosquitto.js';
import { requireTool } from '../helpers/tools.js';
import { chaosOptions } from './options.js';
import { FakeClock } from './faketime.js';
import { DESCRIPTIONS, FAULT_KINDS, WEIGHTS, healAll, inject, isActive, type FaultKind, type World } from './faults.js';
import { GatewayProc, type UnexpectedExit } from './gateway-proc.js';
import { Ledger } from './ledger.js';
import { Timeline } from './timeline.js';
import { ChaosProxy } from './proxy.js';
import { details, table } from './report.js';
import { SmallDisk } from './small-disk.js';
import { chaosConfig, drainConfig } from './setup.js';

const GATEWAY_ID = 'chaos-gw';
const ROOT = `citygate/${GATEWAY_ID}`;
/** More warn/error lines than this in one second is a flood (an SD card pays for each). */
const FLOOD_PER_SECOND = 10;
const LASTING: readonly FaultKind[] = ['link_cut', 'black_hole', 'disk_full'];

const t0 = Date.now();
const now = (): number => Date.now() - t0;
const stamp = (t = now()): string => `${(t / 1000).toFixed(1).padStart(7)}s`;
const say = (msg: string): void => console.log(`[${stamp()}] ${msg}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface HealthSeen {
  at: number;
  readings: number | undefined;
  nextSeq: number | undefined;
}

/** Ctrl-C / SIGTERM: stop injecting, heal, drain and report; a second one tears down at once. */
let aborted = false;
let emergency: (() => void) | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (aborted) {
      emergency?.();
      process.exit(130);
    }
    aborted = true;
    say(`${sig}: stopping the faults; healing and reporting (again to abort at once)`);
  });
}

async function main(): Promise<number> {
  const o = chaosOptions();
  say(`chaos run: seed ${o.seed}, at most ${o.faults} faults in ${o.seconds} s, kinds ${o.kinds.join(',')}`);
  say(`repeat with: CHAOS_SEED=${o.seed} CHAOS_FAULTS=${o.faults} CHAOS_SECONDS=${o.seconds}${process.env.CHAOS_ENCODING ? ` CHAOS_ENCODING=${process.env.CHAOS_ENCODING}` : ''} npm run test:chaos`);
  requireTool('mosquitto');
  const work = mkdtempSync(join(tmpdir(), 'cg-chaos-'));
  const disk = new SmallDisk(join(work, 'disk'), 64);
  const rand = seededRandom(o.seed);
  const ledger = new Ledger(new Timeline(t0));
  const misbehaviour: string[] = [];
  const misbehave = (m: string): void => {
    misbehaviour.push(`[${stamp()}] ${m}`);
    say(`MISBEHAVIOUR: ${m}`);
  };
  let health: HealthSeen = { at: 0, readings: undefined, nextSeq: undefined };
  let lastData = 0;
  let broker: Mosquitto | undefined;
  let proxy: ChaosProxy | undefined;
  let gateway: GatewayProc | undefined;
  let sub: MqttClient | undefined;
  let failed = true;
  try {
    const clock = new FakeClock(work);
    disk.mount();
    emergency = () => {
      gateway?.signal('SIGKILL');
      disk.unmount();
    };
    broker = new Mosquitto({ extra: ['autosave_interval 1'] });
    await broker.start();
    const b = broker;
    sub = await persistentSubscriber(broker.url, {
      clientId: 'chaos-upstream',
      protocolVersion: 5,
      topics: [`${ROOT}/data/+`, `${ROOT}/events`, `${ROOT}/health`],
      onMessage: (topic, payload) => {
        const at = now();
        let body: Record<string, unknown>;
        try {
          // Data in either encoding (JSON or compact) through the shipped decoder.
          body = (topic.startsWith(`${ROOT}/data/`) ? decodeDataPayload(payload) : JSON.parse(payload.toString())) as Record<string, unknown>;
        } catch {
          return;
        }
        if (topic === `${ROOT}/events`) {
          ledger.event(body, at);
          appendFileSync(join(work, 'events.ndjson'), `${JSON.stringify({ at, ...body })}\n`);
        }
        else if (topic === `${ROOT}/health`) {
          const buf = body.buffer as { readings?: number; next_seq?: number } | undefined;
          health = { at, readings: buf?.readings, nextSeq: buf?.next_seq };
        } else if (topic.startsWith(`${ROOT}/data/`)) {
          lastData = at;
          const device = String(body.device);
          for (const r of (body.readings as Array<{ seq: number; ts: number; point: string; value: unknown }>) ?? []) ledger.reading(device, r, at, body.replay === true);
        }
      },
    });
    proxy = new ChaosProxy(() => b.port, ROOT, {
      acked: (seqs) => ledger.acked(seqs),
      published: (seqs) => seqs.forEach((s) => ledger.published(s)),
      event: (ev) => ledger.event(ev, now()),
    }, 5);
    await proxy.start();
    const dataDir = join(disk.dir, 'data');
    const configFile = join(work, 'gateway.yaml');
    const drainFile = join(work, 'drain.yaml');
    writeFileSync(configFile, stringify(chaosConfig(GATEWAY_ID, dataDir, proxy.port)));
    writeFileSync(drainFile, stringify(drainConfig(GATEWAY_ID, dataDir, proxy.port)));
    gateway = new GatewayProc(configFile, join(work, 'gateway.log'), clock.env(), now, (u) =>
      say(`gateway exited by itself (code ${u.code}, signal ${u.signal}); restarting in 1 s like systemd`),
    );
    const w: World = { gateway, broker, proxy, disk, clock, timeline: ledger.timeline, rand, now, misbehave };
    say(`work dir ${work}; data_dir on a 64 MiB tmpfs; broker :${broker.port}; proxy :${proxy.port}; gateway log ${join(work, 'gateway.log')}`);

    if (!(await gateway.start(30_000))) throw new Error(`the gateway did not start:\n${gateway.lastLines().join('\n')}`);
    const warm = Date.now();
    while (ledger.seqs.size < 500) {
      if (Date.now() - warm > 30_000) throw new Error(`no readings arrived within 30 s of start:\n${gateway.lastLines().join('\n')}`);
      await sleep(100);
    }
    say(`flowing: ${ledger.seqs.size - 1} seqs delivered; injecting faults`);

    // ---- faults ----
    const injected = new Map<string, number>();
    const end = now() + o.seconds * 1000;
    let n = 0;
    while (!aborted && n < o.faults && now() < end) {
      const choices = o.kinds.filter((k) => !(LASTING.includes(k) && isActive(k)));
      if (choices.length === 0) {
        await sleep(200);
        continue;
      }
      const kind = pick(choices, rand);
      n++;
      injected.set(kind, (injected.get(kind) ?? 0) + 1);
      const detail = await inject(kind, w);
      say(`#${n} ${kind}: ${detail}`);
      await sleep(300 + rand() * 1700);
    }
    const injectDone = now();
    say(`injected ${n} faults in ${((injectDone - 0) / 1000).toFixed(0)} s; healing`);

    // ---- heal and drain ----
    healAll();
    proxy.setMode('pass');
    disk.free();
    clock.set(0);
    ledger.timeline.setOffset(now(), 0);
    if (!broker.running) await broker.start();
    if (!(await gateway.start(30_000))) misbehave('gateway did not start after healing');
    await sleep(3000);
    const code = await gateway.stop('SIGTERM', 30_000);
    if (code !== 0) misbehave(`final SIGTERM: gateway exited with ${String(code)}, not 0`);
    gateway.useConfig(drainFile);
    const drainStart = now();
    if (!(await gateway.start(30_000))) misbehave('drain gateway (no devices) did not start');
    const drainEnd = drainStart + o.drainSeconds * 1000;
    for (;;) {
      await sleep(250);
      if (health.at > drainStart + 500 && health.readings === 0) break;
      if (now() > drainEnd) {
        misbehave(`drain did not finish within ${o.drainSeconds} s (last health: ${JSON.stringify(health)})`);
        break;
      }
    }
    await sleep(2000);
    const drainCode = await gateway.stop('SIGTERM', 30_000);
    if (drainCode !== 0) misbehave(`drain gateway SIGTERM: exited with ${String(drainCode)}, not 0`);
    say(`drained in ${((now() - drainStart) / 1000).toFixed(1)} s; last data ${stamp(lastData)}`);

    // ---- report ----
    const exits = new Map<string, { n: number; first: UnexpectedExit }>();
    for (const u of gateway.unexpected) {
      const key = `code ${u.code}, signal ${u.signal}`;
      const e = exits.get(key);
      if (e) e.n++;
      else exits.set(key, { n: 1, first: u });
    }
    for (const [key, e] of exits)
      misbehave(`gateway exited by itself ${e.n} time(s) (${key}); the first at ${stamp(e.first.at)}, last lines:\n    ${e.first.lastLines.slice(-6).join('\n    ')}`);
    const maxAge = ledger.report(FAULT_KINDS, injected).lossEvents['buffer_dropped/max_age'];
    if (maxAge) misbehave(`${maxAge.seqs} readings dropped as max_age (1 day) though none was older than this run: age measured on the wall clock`);
    const flood = [...gateway.alarmsPerSecond.values()].filter((n) => n > FLOOD_PER_SECOND);
    if (flood.length > 0)
      misbehave(`log flood: more than ${FLOOD_PER_SECOND} warn/error lines in one second, ${flood.length} times (at most ${Math.max(...flood)})`);
    const r = ledger.report(FAULT_KINDS, injected, (health.nextSeq ?? 1) - 1);
    const took = now();
    console.log('');
    console.log(`chaos result ${new Date().toISOString()} — ${n} faults, ${(took / 1000).toFixed(0)} s, seed ${o.seed}`);
    console.log(`gateway: ${gateway.starts} starts, up (past "gateway started") ${Math.round((100 * gateway.upMs(now())) / took)}% of the run, ${gateway.errorLines} error log lines`);
    for (const l of table(r)) console.log(l);
    for (const l of details(r, (t) => stamp(t))) console.log(l);
    for (const k of o.kinds) console.log(`  ${k}: ${DESCRIPTIONS[k]}`);
    const reasons: string[] = [];
    if (r.total.unexplained > 0) reasons.push(`${r.total.unexplained} unexplained lost seqs`);
    if (r.total.conflicts > 0) reasons.push(`${r.total.conflicts} seq conflicts`);
    if (r.total.lostBeforeSeq > 0) reasons.push(`${r.total.lostBeforeSeq} readings lost before they had a seq`);
    if (misbehaviour.length > 0) reasons.push(`${misbehaviour.length} misbehaviours`);
    if (misbehaviour.length > 0) console.log(`misbehaviours:\n${misbehaviour.join('\n')}`);
    if (r.total.brokerLost > 0) console.log(`note: ${r.total.brokerLost} seqs were PUBACKed by the broker and lost by it (a broker SIGKILL): not the gateway's loss`);
    failed = reasons.length > 0;
    console.log(failed ? `CHAOS FAILED: ${reasons.join('; ')}` : `CHAOS OK: 0 unexplained loss, 0 conflicts across ${n} faults`);
    return failed ? 1 : 0;
  } finally {
    healAll();
    await gateway?.stop('SIGKILL');
    await closeClient(sub);
    await proxy?.close();
    await broker?.stop();
    disk.unmount();
    if (o.keep || failed) say(`kept ${work} (gateway.log, events.ndjson, broker store)`);
    else rmSync(work, { recursive: true, force: true });
  }
}

function pick(kinds: readonly FaultKind[], rand: () => number): FaultKind {
  const total = kinds.reduce((a, k) => a + WEIGHTS[k], 0);
  let x = rand() * total;
  for (const k of kinds) {
    x -= WEIGHTS[k];
    if (x < 0) return k;
  }
  return kinds[kinds.length - 1] as FaultKind;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos run could not run: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);

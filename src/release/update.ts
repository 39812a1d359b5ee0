/**
 * `citygate update BUNDLE`: install a release without risking the gateway.
 *
 *   1. verify it (verify-bundle.ts): its `.sig` signed by a trusted key, the bytes the
 *      signed manifest pins, this architecture, not older than the running release;
 *      the buffer format (buffer-format.ts: refused if a rollback could not read the
 *      buffer). Nothing is unpacked before this, and what is unpacked is the verified
 *      copy;
 *   2. unpack that copy into releases/<id>; trust the manifest's next_keys (rotation)
 *      when the release is newer than the running one;
 *   3. note which devices are up, point `previous` at the running release and
 *      `current` at the new one, restart the service;
 *   4. health gate (health-gate.ts) within the grace period; if it fails, point
 *      `current` back at the previous release, restart it, and report failure.
 * Config, secrets and the buffer are never touched. Exit codes: 0 updated, 1 refused
 * (unsigned, untrusted, altered, older, wrong arch, buffer format), 2 rolled back (or
 * rollback failed).
 */
import { rmSync } from 'node:fs';
import type { HealthPayload } from '../uplink/topics.js';
import { UserError } from '../core/errors.js';
import { stageVerified } from './verify-bundle.js';
import { installKeys, loadTrust } from './trust.js';
import { publicKeyFrom } from './signature.js';
import { BUFFER_FORMAT, formatProblem, readBufferFormat, readsOf } from './buffer-format.js';
import { devicesUp, healthGate, type HealthSource } from './health-gate.js';
import type { ReleaseLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import type { ServiceControl } from './service.js';
import { makeDirs } from '../core/make-dirs.js';

export interface UpdateOptions {
  bundle: string;
  layout: ReleaseLayout;
  service: ServiceControl;
  health: HealthSource;
  dataDir: string;
  graceMs: number;
  pollMs?: number;
  /** The architecture this gateway runs (process.arch). */
  arch?: string;
  /** The trusted keys' directory (trust.ts; /etc/citygate/keys on a gateway). */
  trustDir: string;
  /** Install a release older than the running one: a flag given on the gateway only. */
  allowDowngrade?: boolean;
  say(line: string): void;
}

export interface UpdateResult {
  outcome: 'updated' | 'rolled-back' | 'rollback-failed';
  from: string | undefined;
  to: string;
  detail: string;
}

export async function update(o: UpdateOptions): Promise<UpdateResult> {
  const from = o.layout.linked('current');
  const fromManifest = from ? o.layout.manifest(from) : undefined;
  const fromReads = fromManifest ? readsOf(fromManifest) : BUFFER_FORMAT;
  const arch = o.arch ?? process.arch;
  const trust = loadTrust(o.trustDir);
  makeDirs(o.layout.releases);
  const staged = await stageVerified(o.bundle, o.layout.releases, {
    trust,
    arch,
    ...(fromManifest ? { runningVersion: fromManifest.version } : {}),
    ...(o.allowDowngrade ? { allowDowngrade: true } : {}),
  });
  let m: Manifest;
  try {
    const s = staged.manifest;
    o.say(`signature ok: ${s.version} (${s.id}) signed by key ${staged.keyId}, sha256 ${s.sha256.slice(0, 16)}…`);
    const fp = formatProblem(readBufferFormat(o.dataDir), fromReads, s);
    if (fp) throw new UserError(`update refused: ${fp}`);
    m = await o.layout.unpack(staged.file);
    if (m.id !== s.id || m.version !== s.version || m.arch !== s.arch || m.buffer_format !== s.buffer_format || readsOf(m) !== readsOf(s)) {
      rmSync(o.layout.dir(m.id), { recursive: true, force: true });
      throw new UserError(`update refused: the bundle's release.json (${m.id}) is not the release its signed manifest names (${s.id})`);
    }
    o.say(`unpacked ${m.id} (citygate ${m.version}, node ${m.node}, ${m.arch})`);
    if (staged.forward && s.next_keys.length) {
      const added = installKeys(o.trustDir, s.next_keys.map((k, i) => publicKeyFrom(k, `next_keys[${i}]`)));
      if (added.length) o.say(`trusting the next release key(s) it names: ${added.join(', ')} (in ${o.trustDir})`);
    }
  } finally {
    staged.remove();
  }

  const before: HealthPayload | undefined = (await o.service.isActive()) ? await o.health() : undefined;
  const up = devicesUp(before);
  if (from) o.layout.point('previous', from);
  o.layout.point('current', m.id);
  o.say(`switched current to ${m.id}${from ? ` (previous: ${from})` : ''}; restarting`);
  await o.service.restart();
  const gate = await healthGate({ service: o.service, health: o.health, version: m.version, devicesUp: up, graceMs: o.graceMs, pollMs: o.pollMs ?? 1000 });
  if (gate.healthy) {
    o.say(gate.detail);
    return { outcome: 'updated', from, to: m.id, detail: gate.detail };
  }
  o.say(`not healthy within ${Math.round(o.graceMs / 1000)} s: ${gate.detail}`);
  if (!from) return { outcome: 'rollback-failed', from, to: m.id, detail: `${gate.detail}; no previous release to return to` };
  o.layout.point('current', from);
  o.say(`rolled back: current is ${from} again; restarting`);
  await o.service.restart();
  const fromVersion = o.layout.manifest(from).version;
  const back = await healthGate({ service: o.service, health: o.health, version: fromVersion, devicesUp: up, graceMs: o.graceMs, pollMs: o.pollMs ?? 1000 });
  return {
    outcome: back.healthy ? 'rolled-back' : 'rollback-failed',
    from,
    to: m.id,
    detail: `${m.id}: ${gate.detail}; ${from} after rollback: ${back.detail}`,
  };
}

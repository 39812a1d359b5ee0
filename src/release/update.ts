/**
 * `citygate update BUNDLE`: install a release without risking the gateway.
 *
 *   1. verify the bundle against its .sha256 (nothing is touched before this);
 *   2. unpack it into releases/<id>; check its architecture and buffer format
 *      (buffer-format.ts: refused if a rollback could not read the buffer);
 *   3. note which devices are up, point `previous` at the running release and
 *      `current` at the new one, restart the service;
 *   4. health gate (health-gate.ts) within the grace period; if it fails, point
 *      `current` back at the previous release, restart it, and report failure.
 * Config, secrets and the buffer are never touched. Exit codes: 0 updated, 1 refused
 * (bad bundle, wrong arch, buffer format), 2 rolled back (or rollback failed).
 */
import type { HealthPayload } from '../uplink/topics.js';
import { UserError } from '../core/errors.js';
import { verifyBundle } from './checksum.js';
import { BUFFER_FORMAT, formatProblem, readBufferFormat } from './buffer-format.js';
import { devicesUp, healthGate, type HealthSource } from './health-gate.js';
import type { ReleaseLayout } from './layout.js';
import type { ServiceControl } from './service.js';

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
  say(line: string): void;
}

export interface UpdateResult {
  outcome: 'updated' | 'rolled-back' | 'rollback-failed';
  from: string | undefined;
  to: string;
  detail: string;
}

export async function update(o: UpdateOptions): Promise<UpdateResult> {
  const sum = await verifyBundle(o.bundle);
  o.say(`checksum ok (sha256 ${sum.slice(0, 16)}…)`);
  const from = o.layout.linked('current');
  const fromFormat = from ? o.layout.manifest(from).buffer_format : BUFFER_FORMAT;
  const m = await o.layout.unpack(o.bundle);
  o.say(`unpacked ${m.id} (citygate ${m.version}, node ${m.node}, ${m.arch})`);
  const arch = o.arch ?? process.arch;
  if (m.arch !== arch) throw new UserError(`${o.bundle} is built for ${m.arch}; this gateway is ${arch}: use the linux-${arch === 'arm' ? 'armv7' : arch} bundle`);
  const fp = formatProblem(readBufferFormat(o.dataDir), fromFormat, m.buffer_format);
  if (fp) throw new UserError(`update refused: ${fp}`);

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

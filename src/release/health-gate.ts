/**
 * The health gate of an update: is the new release healthy within the grace period?
 *
 * Healthy means, all at once, on two polls in a row:
 * - the service is running (systemd: active/running, not restarting);
 * - its status page answers /health with the new release's version (so the process
 *   answering is the new one), and the buffer is open (it reports next_seq);
 * - the uplink reached the broker, or readings are being buffered (next_seq grew
 *   since the first answer): an absent broker is not a failed update;
 * - every device that was not down before the update is not down now (drivers
 *   started): a sensor already broken before does not block every update.
 */
import type { HealthPayload } from '../uplink/topics.js';
import type { ServiceControl } from './service.js';

export type HealthSource = () => Promise<HealthPayload | undefined>;

export interface GateOptions {
  service: ServiceControl;
  health: HealthSource;
  version: string;
  /** Devices that were up (not down) before the update. */
  devicesUp: string[];
  graceMs: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface GateResult {
  healthy: boolean;
  /** The last reason it was not healthy (for the report), or what was seen. */
  detail: string;
}

/** Reads /health from a status page base URL; undefined when it does not answer. */
export function httpHealth(base: string): HealthSource {
  return async () => {
    try {
      const res = await fetch(`${base.replace(/\/$/, '')}/health`, { signal: AbortSignal.timeout(3000) });
      return res.ok ? ((await res.json()) as HealthPayload) : undefined;
    } catch {
      return undefined;
    }
  };
}

/** The devices a health snapshot shows as not down. */
export function devicesUp(h: HealthPayload | undefined): string[] {
  return h ? Object.entries(h.devices).filter(([, d]) => d.state !== 'down').map(([id]) => id) : [];
}

function problem(h: HealthPayload | undefined, o: GateOptions, firstSeq: number | undefined): string | undefined {
  if (!h) return 'the status page does not answer';
  if (h.version !== o.version) return `version ${h.version} answers, not ${o.version} (still starting?)`;
  if (typeof h.buffer?.next_seq !== 'number') return 'the buffer is not open';
  const buffering = firstSeq !== undefined && h.buffer.next_seq > firstSeq;
  if (h.uplink.state !== 'online' && !buffering) return `uplink ${h.uplink.state} and no reading buffered yet`;
  const down = o.devicesUp.filter((id) => h.devices[id]?.state === 'down' || !h.devices[id]);
  if (down.length) return `device(s) up before the update are down or missing: ${down.join(', ')}`;
  return undefined;
}

export async function healthGate(o: GateOptions): Promise<GateResult> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = o.now ?? Date.now;
  const pollMs = o.pollMs ?? 1000;
  const end = now() + o.graceMs;
  let firstSeq: number | undefined;
  let goodInARow = 0;
  let last = 'not checked yet';
  while (now() < end) {
    await sleep(pollMs);
    if (!(await o.service.isActive())) {
      goodInARow = 0;
      last = 'the service is not running';
      continue;
    }
    const h = await o.health();
    if (h && h.version === o.version && typeof h.buffer?.next_seq === 'number') firstSeq ??= h.buffer.next_seq;
    const p = problem(h, o, firstSeq);
    if (p) {
      goodInARow = 0;
      last = p;
      continue;
    }
    if (++goodInARow >= 2) return { healthy: true, detail: `healthy: version ${o.version}, uplink ${h!.uplink.state}, next_seq ${h!.buffer.next_seq}` };
  }
  return { healthy: false, detail: last };
}

/**
 * When to try the broker again (docs: README, "Reconnecting"). Two kinds of failure:
 *
 * - `unreachable` — nothing answered (refused port, no route, DNS, timeout, a dropped
 *   link). It fixes itself when the network or the broker comes back, so we watch for
 *   that cheaply: a plain TCP probe (no TLS, no MQTT) after a full-jitter delay,
 *   uniform in [0, cap], cap = min(min·2ⁿ, probe, max) — 1, 2, 4, 8, 15, 15 … s by default.
 *   When a probe connects, a full MQTT attempt follows after uniform [0, min].
 *   Worst case from "reachable again" to CONNECT sent: probe + min (16 s by default).
 * - `refused` — the broker answered and said no (CONNACK refusal, TLS certificate,
 *   session taken over). Retrying fast will not fix it: full attempts on the
 *   exponential backoff from `min` to `max` with jitter 0.5.
 *
 * A probe that connects but is followed by an attempt that fails as unreachable
 * (a load balancer that holds TCP with no broker behind it) is "wasted"; after
 * WASTED_LIMIT of those in a row, the attempt after a good probe waits for the
 * exponential backoff instead of [0, min], so such a fleet does not make a TLS
 * handshake every few seconds per gateway. A probe that fails ends that mode.
 *
 * Pure: time never read here; the caller supplies the random source.
 */
import { Backoff } from '../core/backoff.js';

export type FailureKind = 'unreachable' | 'refused';

/** What to do next, after `delay` ms. */
export interface ReconnectStep {
  action: 'probe' | 'connect';
  delay: number;
}

export interface ReconnectTiming {
  /** reconnect.min: first probe window, the jitter before an attempt after a good probe, and the first refusal backoff. */
  min: number;
  /** reconnect.max: the longest backoff after refusals; also caps the probe window. */
  max: number;
  /** reconnect.probe: the longest gap between reachability probes while unreachable. */
  probe: number;
}

/** Probe-OK-then-attempt-unreachable rounds in a row before they count as refusals. */
export const WASTED_LIMIT = 3;

export class ReconnectPolicy {
  private probes = 0;
  private wasted = 0;
  private probedOk = false;
  private readonly backoff: Backoff;

  constructor(
    private readonly t: ReconnectTiming,
    private readonly random: () => number,
  ) {
    this.backoff = new Backoff({ base: t.min, max: t.max, jitter: 0.5 }, random);
  }

  /** A full attempt failed, or an established link dropped (`unreachable`). */
  failed(kind: FailureKind): ReconnectStep {
    if (kind === 'unreachable' && this.probedOk) this.wasted++;
    this.probedOk = false;
    if (kind === 'refused') return { action: 'connect', delay: this.backoff.next() };
    return this.nextProbe();
  }

  /** A reachability probe connected: attempt soon, spread over [0, min] (after the backoff when probes keep lying). */
  probeOk(): ReconnectStep {
    this.probedOk = true;
    if (this.wasted >= WASTED_LIMIT) return { action: 'connect', delay: this.backoff.next() };
    return { action: 'connect', delay: Math.round(this.random() * this.t.min) };
  }

  /** A reachability probe failed: probe again later. */
  probeFailed(): ReconnectStep {
    this.wasted = 0;
    return this.nextProbe();
  }

  /** The link is good (stable for a while, or data acknowledged): start from the first step again. */
  reset(): void {
    this.probes = 0;
    this.wasted = 0;
    this.probedOk = false;
    this.backoff.reset();
  }

  /** The current probe window, ms (for logs and tests). */
  probeCap(): number {
    return Math.min(this.t.probe, this.t.max, this.t.min * 2 ** Math.min(this.probes, 30));
  }

  private nextProbe(): ReconnectStep {
    const cap = this.probeCap();
    this.probes++;
    return { action: 'probe', delay: Math.round(this.random() * cap) };
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
]);

/**
 * The kind of a connection failure. Numeric codes are MQTT reason codes (a CONNACK
 * refusal, or a DISCONNECT the broker sent); TLS and certificate codes mean the broker
 * answered and rejected us. Anything else (network codes, timeouts, a close without
 * error) means nothing useful answered.
 */
export function failureKind(err: unknown): FailureKind {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number') return 'refused';
  if (typeof code === 'string') {
    if (UNREACHABLE.has(code)) return 'unreachable';
    if (/CERT|TLS|SSL|ALERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/.test(code)) return 'refused';
  }
  return 'unreachable';
}

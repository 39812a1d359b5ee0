/**
 * A broker that refuses a data message (MQTT 5 PUBACK with a reason code ≥ 0x80: most often
 * 0x87 "not authorized", an ACL that does not let this client write the topic). The link
 * itself is fine, so dropping it at once, as after a network failure, only made the gateway
 * redial in a loop: the same message was refused again each time, and between the
 * connections there was no time for command replies, events or health (docs/operations.md,
 * "A broker that refuses data").
 *
 * Instead the readings stay in the buffer and data is *held* for a while (5 s, doubling up to
 * 5 min, reset by the next accepted data message) while the connection stays up for
 * everything else; then the link is renewed so every unacknowledged message is read again
 * from the buffer and sent, as after any reconnect. Nothing is deleted that was not
 * acknowledged, so nothing is lost whatever the broker says.
 *
 * MQTT 3.1.1 has no way to refuse: a broker that will not accept a publish acknowledges it
 * and drops it (Mosquitto does), which no client can see. Hence MQTT 5 by default.
 */

/** MQTT 5 reason codes a PUBACK can carry (MQTT 5.0, 3.4.2.1). */
const PUBACK_REASONS: Record<number, string> = {
  0x80: 'unspecified error',
  0x83: 'implementation specific error',
  0x87: 'not authorized',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x97: 'quota exceeded',
  0x99: 'payload format invalid',
};

/** The PUBACK reason code of a publish the broker refused, else undefined (a transport failure). */
export function pubackRefusal(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 0x80 && code <= 0xff ? code : undefined;
}

export function describeRefusal(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  const why = PUBACK_REASONS[code] ?? 'refused';
  const hint =
    code === 0x87
      ? "check the broker's ACL: this client may not publish there"
      : code === 0x97
        ? "the broker's quota for this client is used up"
        : "check the broker's log for this client";
  return `${why} (${hex}) — ${hint}`;
}

const FIRST_HOLD_MS = 5_000;
const MAX_HOLD_MS = 5 * 60_000;

/** How long data waits after a refusal: 5 s, doubling up to 5 min, until one is accepted. */
export class RefusalHold {
  private until = 0;
  private next = FIRST_HOLD_MS;

  /** Whether data is held at `now` (monotonic ms). */
  holding(now: number): boolean {
    return now < this.until;
  }

  /** A data message was refused at `now`: the hold to apply, ms. */
  refused(now: number): number {
    const ms = this.next;
    this.until = now + ms;
    this.next = Math.min(MAX_HOLD_MS, ms * 2);
    return ms;
  }

  /** A data message was accepted: the next refusal starts from the first step again. */
  accepted(): void {
    this.next = FIRST_HOLD_MS;
  }
}

/** The demo's live one-line summary: readings/s, buffer depth, uplink state, delivered. */
import type { Gateway } from '../runtime/gateway.js';
import type { EmbeddedBroker } from './embedded-broker.js';
import { decodeDataPayload } from '../uplink/encoding/decode.js';

export function startSummary(gateway: Gateway, broker: EmbeddedBroker, out: NodeJS.WriteStream): { stop(): void } {
  let delivered = 0;
  const off = broker.onPublish((m) => {
    if (gateway.topics.isData(m.topic)) {
      try {
        delivered += decodeDataPayload(m.payload).readings.length; // JSON or compact (uplink.encoding)
      } catch {
        // not a citygate data message: nothing delivered to count
      }
    }
  });
  let lastSeq = gateway.buffer.stats().nextSeq;
  let lastAt = Date.now();
  const tty = Boolean(out.isTTY);
  let ticks = 0;
  const timer = setInterval(() => {
    const b = gateway.buffer.stats();
    const now = Date.now();
    const rate = ((b.nextSeq - lastSeq) * 1000) / Math.max(1, now - lastAt);
    lastSeq = b.nextSeq;
    lastAt = now;
    const h = gateway.health();
    const bad = Object.entries(h.devices).filter(([, d]) => d.state !== 'ok').map(([id, d]) => `${id}:${d.state}`);
    const line = fitLine(
      `readings/s ${rate.toFixed(1).padStart(6)} | buffer ${String(b.readings).padStart(6)} | uplink ${h.uplink.state.padEnd(10)} | delivered ${delivered} | seq ${b.nextSeq - 1}`,
      bad,
      Math.min(out.columns ?? 100, 100),
    );
    if (tty) out.write(`\r\x1b[K${line}`);
    else if (ticks % 5 === 0) out.write(`${line}\n`);
    ticks++;
  }, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      off();
      if (tty) out.write('\n');
    },
  };
}

/**
 * The live line never wraps (a wrapped line breaks the \r redraw): device states are
 * listed while they fit, then counted ("+3 more"), and the line is cut at `width`.
 */
export function fitLine(head: string, devices: readonly string[], width: number): string {
  let line = head;
  for (const [i, d] of devices.entries()) {
    const more = devices.length - i - 1;
    const next = `${line}${i === 0 ? ' |' : ''} ${d}`;
    const tail = more ? ` +${more} more` : '';
    if (`${next}${tail}`.length > width) {
      line = `${line}${i === 0 ? ' |' : ''} +${devices.length - i} ${i === 0 ? 'not ok' : 'more'}`;
      break;
    }
    line = next;
  }
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

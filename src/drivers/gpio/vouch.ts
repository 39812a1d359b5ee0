/**
 * Whether the gateway can vouch for a counter window's pulse count: pure logic, fed by
 * the debouncer (rejected bursts) and the event-loop monitor (loop-lag.ts).
 *
 * Why a count can be wrong (sysfs GPIO, edges by epoll, no kernel timestamps):
 * - the debouncer times an edge by when JavaScript handles it. A stall of the event loop
 *   delays one edge's handling more than the next one's: the measured length of a level
 *   shrinks by up to the stall, and a real pulse measured shorter than `debounce` is
 *   dropped as a bounce;
 * - the kernel signals "the value changed" by a flag that epoll reports once, however many
 *   edges happened meanwhile, and the value is read when JavaScript gets round to it. A
 *   whole pulse inside a stall arrives as one notification reading the level it started
 *   from — again a burst that "ended where it began", dropped as a bounce.
 * Either way every lost pulse leaves a rejected burst behind. Without kernel timestamps
 * nothing tells a lost pulse from a real bounce for sure: the event loop's own stalls are
 * measured, but the delays before JavaScript is told (the kernel's interrupt path, the epoll
 * thread) are not, and a delay of one edge's notice and not the next one's shrinks a real
 * level below the debounce as surely as a stall does (gpio-sim under qemu: a window counted
 * 16 of 18-25 pulses, `good`, the loop never late by 10 ms). So on sysfs:
 * - `untimed_burst`: a burst was rejected (shorter than half the debounce, so not
 *   `short_burst`). The count is exact only when no burst was rejected at all; a clean
 *   pulse output (an S0 meter, a loop detector, a reed switch whose bounces stay inside the
 *   change they belong to) keeps its windows good, a line with glitches does not;
 * - `loop_stall`: the loop stalled for at least half the debounce time in this window or
 *   the one before (a stall of that size can shorten a pulse whose levels last up to 1.5 ×
 *   debounce below the debounce), and a burst was rejected in this window or is still
 *   settling when it closes;
 * - `short_burst`: a rejected burst lasted at least half the debounce time — no contact
 *   bounces that long (reed switches: 1-5 ms): it was a pulse shorter than the debounce
 *   allows, or one cut short by a stall. A count that drops pulses is not exact.
 * - `long_burst` (both backends): an accepted change whose burst lasted at least half the
 *   debounce: pulses faster than the debounce allows, merged into one change (levels shorter
 *   than the debounce never settle), or a contact bouncing that long.
 * With kernel timestamps (gpiomon-port.ts) a stall delays edges but cannot merge or shorten
 * them, so `loop_stall` does not apply; instead:
 * - `late_edge`: an edge arrived after the debouncer had decided the burst it belonged to
 *   (gpiomon itself was held up past the settle time);
 * - `repeated_edge`: two edges in a row reported the same level. Every event is an edge, so
 *   levels alternate; but for both edges uAPI v1 (libgpiod 1.6) gives an event its type from
 *   the line's level read in the kernel's interrupt thread, which may run after the next
 *   edge: a falling edge read late is reported rising, and the pulse it began vanishes with
 *   no rejected burst (gpio-sim under qemu: 198 and 199 of 200 counted, every window good,
 *   before this rule). An event queue that overflowed (16 events) shows the same way.
 * Without any of these the count is exact for pulses whose levels each last at least twice
 * the debounce (the documented maximum rate): on sysfs no burst was rejected and no change
 * took long to settle; with timestamps every rejected burst was shorter than half the
 * debounce on the kernel's clock.
 */
import type { Quality } from '../../core/reading.js';

export type UncertainReason = 'loop_stall' | 'untimed_burst' | 'short_burst' | 'long_burst' | 'late_edge' | 'repeated_edge';

export interface WindowVerdict {
  quality: Extract<Quality, 'good' | 'uncertain'>;
  reasons: UncertainReason[];
}

export class CountVouch {
  private rejected = 0;
  private shortBursts = 0;
  private longBursts = 0;
  private late = 0;
  private repeated = 0;
  /** Edges carry the kernel's timestamps: stalls cannot merge them. */
  timestamped = false;

  constructor(private readonly debounceMs: number) {}

  /** Bursts lasting this long, and stalls this long, make a window uncertain. */
  get limitMs(): number {
    return this.debounceMs / 2;
  }

  /** The debouncer dropped a burst that lasted `spanMs` (first to last transition). */
  burstRejected(spanMs: number): void {
    this.rejected++;
    if (spanMs >= this.limitMs) this.shortBursts++;
  }

  /** The debouncer accepted a change whose burst lasted `spanMs` (first to last transition). */
  burstAccepted(spanMs: number): void {
    if (spanMs >= this.limitMs && this.limitMs > 0) this.longBursts++;
  }

  /** A timestamped edge came after the decision it belonged to. */
  lateEdge(): void {
    this.late++;
  }

  /** A timestamped edge reported the level the previous one had already reported. */
  repeatedEdge(): void {
    this.repeated++;
  }

  /**
   * Closes the window. `stallMs`: the longest event-loop stall over this window and the
   * previous one (LoopLag.closeWindow); `settling`: a burst is still open.
   */
  close(stallMs: number, settling: boolean): WindowVerdict {
    const reasons: UncertainReason[] = [];
    if (!this.timestamped && stallMs >= this.limitMs && (this.rejected > 0 || settling)) reasons.push('loop_stall');
    if (!this.timestamped && this.rejected > this.shortBursts) reasons.push('untimed_burst');
    if (this.shortBursts > 0) reasons.push('short_burst');
    if (this.longBursts > 0) reasons.push('long_burst');
    if (this.late > 0) reasons.push('late_edge');
    if (this.repeated > 0) reasons.push('repeated_edge');
    this.rejected = 0;
    this.repeated = 0;
    this.shortBursts = 0;
    this.longBursts = 0;
    this.late = 0;
    return { quality: reasons.length > 0 ? 'uncertain' : 'good', reasons };
  }
}

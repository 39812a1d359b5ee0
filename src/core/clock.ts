/**
 * Time, injected. Everything that waits, polls, backs off or ages data takes a Clock,
 * so tests run minutes of behaviour in milliseconds (docs/architecture.md#time-is-injected).
 *
 * - `now()` is wall-clock epoch ms: what readings are stamped with. It can jump (NTP).
 * - `mono()` is monotonic ms: what intervals and timeouts are measured with.
 * - `setTimer()` schedules `fn` after `ms` (monotonic) and returns a cancel function.
 * - `random()` is the jitter source.
 */
export interface Clock {
  now(): number;
  mono(): number;
  setTimer(ms: number, fn: () => void): () => void;
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  mono: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return () => clearTimeout(t);
  },
  random: () => Math.random(),
};

/** Resolves after `ms`, or rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

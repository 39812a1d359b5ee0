/**
 * The child side of bench/lib/child.ts: a worker reads its arguments from
 * BENCH_ARGS, does one measurement and prints one `BENCH_RESULT {json}` line. Each
 * worker is its own process so its RSS and /proc/self/io count only its own work.
 */
export function workerMain<A, R>(run: (args: A) => Promise<R>): void {
  const args = JSON.parse(process.env.BENCH_ARGS ?? '{}') as A & { hardTimeoutMs?: number };
  const hard = setTimeout(() => {
    process.stderr.write(`worker: hard timeout after ${args.hardTimeoutMs ?? 300_000} ms\n`);
    process.exit(3);
  }, args.hardTimeoutMs ?? 300_000);
  hard.unref();
  run(args).then(
    (result) => {
      process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` or `timeoutMs`; returns whether the condition held. */
export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 5): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(stepMs);
  }
  return true;
}

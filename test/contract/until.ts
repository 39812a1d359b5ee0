/** Polls `cond` until it holds, at most `ms` (bounded in time and count), else throws naming `what`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 3000, stepMs = 5): Promise<void> {
  const rounds = Math.ceil(ms / stepMs);
  for (let i = 0; i < rounds; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  if (await cond()) return;
  throw new Error(`${what}: not within ${ms}ms`);
}

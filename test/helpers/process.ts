import type { ChildProcess } from 'node:child_process';

/** Send `signal` (default SIGKILL) and resolve once the process has exited. */
export function killAndWait(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill(signal);
  });
}

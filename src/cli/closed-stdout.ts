/**
 * A reader that goes away (`citygate schema | head -1`) closes stdout under a running
 * command. Node's default is an unhandled EPIPE: a stack trace and exit 1, even when
 * the command itself succeeded. Installed once for every command (cli/main.ts): EPIPE
 * on stdout is taken quietly, what the command still writes goes nowhere, and the
 * command ends as it would have: its exit status is the one it has when read to the
 * end (0 when it succeeded, 1 when validate found problems, 2 when a scan found
 * nothing). A command that otherwise runs until Ctrl-C (probe gpio watch, serial
 * sniff, demo) registers with onStdoutClosed and stops as on Ctrl-C, since nobody
 * reads it any more.
 */
let installed = false;
let closed = false;
const waiting = new Set<() => void>();

export function quietOnClosedStdout(stdout: NodeJS.WriteStream = process.stdout): void {
  if (installed) return;
  installed = true;
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    if (closed) return;
    closed = true;
    for (const stop of [...waiting]) stop();
    waiting.clear();
  });
}

/** Call `stop` once when the reader of stdout goes away (now, if it already has). Returns an unregister. */
export function onStdoutClosed(stop: () => void): () => void {
  if (closed) {
    queueMicrotask(stop);
    return () => undefined;
  }
  waiting.add(stop);
  return () => waiting.delete(stop);
}

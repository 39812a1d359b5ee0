/**
 * QMP, qemu's machine protocol, for the machine test: hot-unplug and plug back a device
 * (`device_del` / `device_add`) and ask where a chardev went (`query-chardev`, e.g. the
 * host pty behind the guest's /dev/ttyS1). One connection per command: the greeting,
 * `qmp_capabilities`, the command, its answer (events in between are skipped).
 */
import { connect } from 'node:net';

export type QmpArgs = Record<string, unknown>;

export function qmp(socket: string, execute: string, args?: QmpArgs, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(socket);
    let buf = '';
    let stage = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`QMP ${execute}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err: Error | undefined, value?: unknown): void => {
      clearTimeout(timer);
      sock.end();
      if (err) reject(err);
      else resolve(value);
    };
    sock.on('error', (e) => done(e));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string };
        if (msg.event) continue;
        if (stage === 0 && msg.QMP) {
          stage = 1;
          sock.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
        } else if (stage === 1) {
          if (msg.error) return done(new Error(`QMP qmp_capabilities: ${msg.error.desc}`));
          stage = 2;
          sock.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
        } else if (stage === 2) {
          if (msg.error) return done(new Error(`QMP ${execute}: ${msg.error.desc}`));
          return done(undefined, msg.return);
        }
      }
    });
  });
}

/** The host pty qemu made for chardev `id` (a `-chardev pty,id=…`): a new one at every power-on. */
export async function chardevPty(socket: string, id: string): Promise<string> {
  const list = (await qmp(socket, 'query-chardev')) as { label: string; filename: string }[];
  const c = list.find((x) => x.label === id);
  if (!c || !c.filename.startsWith('pty:')) throw new Error(`chardev ${id}: no pty (${JSON.stringify(list)})`);
  return c.filename.slice('pty:'.length);
}

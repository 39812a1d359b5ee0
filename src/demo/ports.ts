import net from 'node:net';

/** `preferred` if it is free on 127.0.0.1, otherwise any free port. */
export async function freeLoopbackPort(preferred: number): Promise<number> {
  const tryPort = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(a && typeof a === 'object' ? a.port : undefined));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0)) ?? preferred;
}

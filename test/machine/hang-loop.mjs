// Runs INSIDE the machine test's guest, as root, with the release's own Node.js:
//   node hang-loop.mjs <pid>
// Hangs the event loop of the running gateway <pid> for real, with no hook in citygate:
// SIGUSR1 makes Node open its inspector (documented Node behaviour), and the inspector
// protocol's Runtime.evaluate runs `for (;;) {}` on the gateway's main thread. Timers,
// I/O and the watchdog ping all stop, as with any busy loop; the process itself stays
// alive and runnable (unlike SIGSTOP, which stops it). ws comes from the release's
// production dependencies (mqtt.js uses it).
import http from 'node:http';
import { createRequire } from 'node:module';

const WebSocket = createRequire('/opt/citygate/current/node_modules/')('ws');

const pid = Number(process.argv[2]);
if (!Number.isInteger(pid) || pid <= 1) throw new Error('usage: hang-loop.mjs <pid>');
process.kill(pid, 'SIGUSR1');

function targets() {
  return new Promise((resolve, reject) => {
    http.get('http://127.0.0.1:9229/json/list', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

try {
  let list;
  for (let i = 0; i < 60 && !list; i++) {
    list = await targets().catch(() => undefined);
    if (!list) await new Promise((r) => setTimeout(r, 500));
  }
  if (!list || list.length === 0) throw new Error('the gateway did not open its inspector');
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'for (;;) {}' } }));
  // The evaluation never returns: give it a moment to start, then leave it running.
  await new Promise((r) => setTimeout(r, 2000));
  console.log(`event loop of ${pid} hung (Runtime.evaluate for (;;) {})`);
  process.exit(0);
} catch (e) {
  console.error(`hang-loop: ${e.message}`);
  process.exit(1);
}

// Counts MQTT messages on a topic filter until SIGTERM or a time limit, then prints
// the count (test/release/run.sh). Plain JS: it runs on the host's node, outside tsx.
import mqtt from 'mqtt';

const [url, filter, limitS] = process.argv.slice(2);
let count = 0;
const client = mqtt.connect(url, { reconnectPeriod: 500 });
client.on('connect', () => client.subscribe(filter, { qos: 1 }));
client.on('message', () => count++);
const done = () => {
  process.stdout.write(`${count}\n`);
  client.end(true);
  process.exit(0);
};
process.on('SIGTERM', done);
setTimeout(done, Number(limitS) * 1000);

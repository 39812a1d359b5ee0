/**
 * An operator's MQTT client for command tests: sends `cmd/<name>` requests and waits
 * for the matching answer — by `id` on `cmd/<name>/reply` (3.1.1), or on its own
 * response topic with correlation data (MQTT 5).
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { CommandReplyPayload, EventPayload } from '../../src/uplink/topics.js';
import type { Gateway } from '../../src/runtime/gateway.js';
import { withTimeout } from './mosquitto.js';

/** How the operator logs in: username and password, or a TLS client certificate (PEM contents). */
export type OperatorAuth = Pick<IClientOptions, 'username' | 'password' | 'ca' | 'cert' | 'key'>;

export interface Commander {
  client: MqttClient;
  /** Send a request and wait for the reply with this id (or correlation data). */
  request(name: string, body: unknown, opts?: { id?: string; raw?: Buffer; timeoutMs?: number }): Promise<CommandReplyPayload>;
  /** Ping until answered: the gateway subscribes only once its uplink is online. */
  ready(): Promise<void>;
  replies: { topic: string; reply: CommandReplyPayload; correlation?: string }[];
  events: Extract<EventPayload, { type: 'command' }>[];
  close(): Promise<void>;
}

export async function commander(url: string, root: string, protocolVersion: 4 | 5, auth: OperatorAuth = {}): Promise<Commander> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion,
    reconnectPeriod: 0,
    clientId: `operator-${process.pid}-${Math.round(Math.random() * 1e6)}`,
    ...auth,
  });
  const replies: Commander['replies'] = [];
  const events: Commander['events'] = [];
  const waiters: ((r: Commander['replies'][number]) => void)[] = [];
  const responseTopic = `${root}/cmd/_/reply/operator`;
  const isReply = (topic: string): boolean => topic === responseTopic || (topic.startsWith(`${root}/cmd/`) && topic.endsWith('/reply'));
  client.on('message', (topic, payload, packet) => {
    // The client may subscribe to more (citygate/#): its own requests and data are no replies.
    if (topic !== `${root}/events` && !isReply(topic)) return;
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    if (topic === `${root}/events`) {
      if (body.type === 'command') events.push(body as Commander['events'][number]);
      return;
    }
    const corr = packet.properties?.correlationData;
    const r = { topic, reply: body as unknown as CommandReplyPayload, ...(corr ? { correlation: corr.toString() } : {}) };
    replies.push(r);
    for (const w of [...waiters]) w(r);
  });
  const filters = [`${root}/cmd/+/reply`, `${root}/events`];
  if (protocolVersion === 5) filters.push(responseTopic);
  await client.subscribeAsync(filters, { qos: 1 });
  const self: Commander = {
    client,
    replies,
    events,
    async request(name, body, opts = {}) {
      const id = opts.id ?? (body && typeof body === 'object' && 'id' in body ? String((body as { id: unknown }).id) : undefined);
      const seen = replies.length;
      const match = (r: Commander['replies'][number]): boolean =>
        protocolVersion === 5 ? r.correlation === id : r.topic === `${root}/cmd/${name}/reply` && (id === undefined ? r.reply.id === null : r.reply.id === id);
      const got = new Promise<CommandReplyPayload>((resolve) => {
        const already = replies.slice(seen).find(match);
        if (already) return resolve(already.reply);
        const w = (r: Commander['replies'][number]): void => {
          if (!match(r)) return;
          waiters.splice(waiters.indexOf(w), 1);
          resolve(r.reply);
        };
        waiters.push(w);
      });
      const payload = opts.raw ?? Buffer.from(JSON.stringify(body));
      const props = protocolVersion === 5 && id !== undefined ? { properties: { responseTopic, correlationData: Buffer.from(id) } } : {};
      await client.publishAsync(`${root}/cmd/${name}`, payload, { qos: 1, ...props });
      return withTimeout(got, opts.timeoutMs ?? 10_000, `reply to ${name} ${id ?? ''}`);
    },
    async ready() {
      for (let i = 0; i < 20; i++) {
        try {
          await self.request('ping', { id: `ready-${i}` }, { timeoutMs: 500 });
          return;
        } catch {
          // not subscribed yet
        }
      }
      throw new Error('the gateway never answered ping');
    },
    close: async () => {
      await withTimeout(client.endAsync(true), 2000, 'closing the operator client').catch(() => undefined);
    },
  };
  return self;
}

/** Poll `cond` every 20 ms for at most `ms`. */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Connect an operator, start the gateway, and wait until it answers commands. Both are
 * added to `cleanup` (run in reverse: gateway stopped before the operator leaves).
 */
export async function startWithOperator(
  gw: Gateway,
  url: string,
  protocolVersion: 4 | 5,
  cleanup: (() => Promise<void> | void)[],
  auth: OperatorAuth = {},
): Promise<Commander> {
  const op = await commander(url, gw.topics.root, protocolVersion, auth);
  cleanup.push(() => op.close());
  await gw.start();
  cleanup.push(() => gw.stop());
  await until(() => gw.uplink.stats().state === 'online', 10_000, 'uplink online');
  await op.ready();
  return op;
}

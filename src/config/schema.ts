/**
 * The one config schema (docs/architecture.md#one-schema). Types (`GatewayConfig`), defaults, validation,
 * error messages and the JSON Schema that `citygate schema` prints all come from here.
 * Device and bus shapes come from the driver registry, so a new driver extends the
 * config by registering itself.
 */
import { z } from 'zod';
import { BUSES, DRIVERS } from '../drivers/registry.js';
import { duration, ifThen, size, topicId } from '../core/primitives.js';
import { brokerUrlProblem, listenAddressProblem } from './addresses.js';
import { editorSchema } from './json-schema.js';
import { address, credential } from './secret-fields.js';
import { commandsSchema } from '../commands/schema.js';
import { httpAuthSchema, isLoopbackListen } from '../health/http-auth.js';
import { homeAssistantSchema } from '../homeassistant/schema.js';
import { DIALECTS, sparkplugSchema } from './dialects.js';
import { thingsboardIssues, thingsboardSchema } from './thingsboard.js';

const tlsSchema = credential(z
  .strictObject({
    ca: z.string().optional().meta({ description: 'CA certificate (PEM file path) the broker certificate must chain to.' }),
    cert: z.string().optional().meta({ description: 'Client certificate (PEM file path) for mutual TLS.' }),
    key: z.string().optional().meta({ description: 'Client private key (PEM file path).' }),
    servername: z.string().optional().meta({ description: 'Name to verify the broker certificate against (default: the URL host).' }),
  })
  .refine((t) => Boolean(t.cert) === Boolean(t.key), { message: 'cert and key go together: give both or neither' }));

/** 1-65535, for JSON Schema patterns. */
const PORT = '([1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
const SPIN = 'shorter retries spin the CPU and hammer the broker';
/** mqtt:// or ws:// to a host that is not loopback (for the editor's if/then). */
const PLAIN_REMOTE = '^(mqtt|ws)://(?!(127\\.|localhost([:/]|$)|\\[::1\\]))';

const brokerUrl = z
    .string({ error: (iss) => `expected a broker URL like "mqtts://broker.example:8883", got ${JSON.stringify(iss.input)}` })
    .check((ctx) => {
      const problem = brokerUrlProblem(ctx.value);
      // continue: the union below reports this issue, not a vague "invalid input".
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value, continue: true });
    })
    .meta({
      description: 'Broker URL: mqtt://, mqtts:// (TLS), ws:// or wss:// (TLS). Plain mqtt:// is for loopback only.',
      pattern: `^(mqtts?|wss?)://([^:/?#@\\s[\\]]+|\\[[0-9A-Fa-f:.]+\\])(:${PORT})?(/\\S*)?$`,
    });

export const uplinkSchema = z.strictObject({
  url: address(z
    .union([
      brokerUrl,
      z
        .array(brokerUrl)
        .min(1, { error: 'list at least one broker URL' })
        .max(16, { error: 'at most 16 broker URLs' })
        .meta({ description: 'Several brokers (cluster nodes, or primary and standby): tried in turn on failure.' }),
    ], { error: (iss) => `expected a broker URL like "mqtts://broker.example:8883", or a list of them, got ${JSON.stringify(iss.input)}` })
    .meta({
      description:
        'Broker URL, or a list of them (cluster nodes, primary and standby: on failure the uplink moves on to the next). mqtt://, mqtts:// (TLS), ws:// or wss:// (TLS). Plain mqtt:// is for loopback only.',
    })),
  protocol_version: z
    .union([z.literal(4), z.literal(5)])
    .default(5)
    .meta({ description: 'MQTT protocol: 5 (default) or 4 (3.1.1).' }),
  client_id: z.string().min(1).max(128).optional().meta({ description: 'MQTT client id (default: citygate-<gateway.id>).' }),
  username: credential(z.string().optional().meta({ description: 'MQTT user name.' })),
  password: credential(z.string().optional().meta({ description: 'Use ${ENV} or !secret name; never commit a literal password.' })),
  tls: tlsSchema.optional(),
  topic_root: z
    .string()
    .regex(/^[^#+\s]+[^/#+\s]$/, { error: 'a topic root may not contain "#", "+", spaces, or end with "/"' })
    .optional()
    .meta({ description: 'Prefix of every topic (default: citygate/<gateway.id>).' }),
  keepalive: duration({ min: 1000, why: 'pings faster than this only cost cellular data' })
    .prefault('30s')
    .meta({ description: 'MQTT keepalive: a ping this often when idle; a silent link is noticed after 1.5× this.' }),
  connect_timeout: duration({ min: 100, why: 'a connection cannot be made faster; 0 would give up at once' })
    .prefault('10s')
    .meta({ description: 'Longest wait for a connection (TCP, TLS and CONNACK).' }),
  reconnect: z
    .strictObject({
      min: duration({ min: 100, why: SPIN })
        .prefault('1s')
        .meta({ description: 'First reconnect step: the first probe window when the broker is unreachable, the spread of the attempt after a probe succeeds, and the first backoff after a refusal.' }),
      max: duration({ min: 100, why: SPIN })
        .prefault('2m')
        .meta({ description: 'Longest backoff between attempts when the broker answers but refuses us (bad credentials, TLS certificate, session taken over); the probe window never exceeds it either.' }),
      probe: duration({ min: 1000, why: 'a broker would get a TCP connection per second from every gateway' })
        .prefault('15s')
        .meta({ description: 'Longest gap between cheap TCP reachability probes while the broker is unreachable (full jitter below it): delivery resumes within this plus reconnect.min of the broker coming back.' }),
    })
    .refine((r) => !(r.min > r.max), { path: ['min'], error: 'reconnect.min is longer than reconnect.max' })
    .prefault({}),
  batch: z
    .strictObject({
      max_readings: z.number().int().min(1).max(10_000).default(100).meta({ description: 'Most readings in one data message.' }),
      max_delay: duration().prefault('1s').meta({ description: 'Longest a reading waits to fill a batch.' }),
    })
    .prefault({}),
  inflight: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(32)
    .meta({ description: "Most messages awaiting PUBACK at once (lowered to the broker's Receive Maximum)." }),
  ack_timeout: duration({ min: 100, why: '0 would reconnect before any broker can acknowledge' }).prefault('30s').meta({ description: 'A PUBACK later than this means the link is stuck: reconnect.' }),
  allow_insecure: z
    .boolean()
    .default(false)
    .meta({ description: 'Allow plain mqtt:// or ws:// to a broker that is not on loopback (city data in clear text!). Without it such a URL is a config error.' }),
  encoding: z
    .enum(['json', 'compact'])
    .default('json')
    .meta({ description: 'Data message payloads: json (readable, the default) or compact (zlib-compressed CBOR with a per-message point dictionary, about 10x fewer bytes on the wire at 100 readings per message, for metered SIMs; see docs/encoding.md).' }),
  order: z
    .enum(['live_first', 'strict'])
    .default('live_first')
    .meta({ description: 'Send order after an outage: live_first sends fresh readings within seconds while the backlog drains beside them (per-device order is then not seq order; sort by seq); strict sends everything per device in seq order, fresh readings behind the whole backlog.' }),
  backlog_share: z
    .number()
    .min(0.1, { error: (iss) => `at least 0.1, so the backlog always drains after an outage; got ${String(iss.input)}` })
    .max(0.9, { error: (iss) => `at most 0.9, or live readings get too little of a slow link; got ${String(iss.input)}` })
    .default(0.5)
    .meta({ description: 'live_first: the least share of the link (bytes) the backlog gets while live readings also wait; either lane uses what the other leaves.' }),
  live_age: duration({ min: 1000, why: 'younger than the reconnect itself: nearly everything would be backlog' })
    .prefault('10s')
    .meta({ description: 'Readings committed after the link came back, or at most this long before, are live; older ones are backlog (sent with "replay": true).' }),
  dialect: z
    .enum(DIALECTS)
    .default('citygate')
    .meta({ description: "What goes on the wire and how commands come in: citygate (its own topics, docs/architecture.md), sparkplug (a Sparkplug B 3.0 edge node, docs/sparkplug.md) or thingsboard (the ThingsBoard gateway API). The buffer, seq, send order and loss announcements are the same underneath." }),
  sparkplug: sparkplugSchema.optional().meta({ description: 'The Sparkplug B edge node (dialect: sparkplug).' }),
  thingsboard: thingsboardSchema.optional(),
})
  .meta({
    allOf: [
      ifThen({ url: { pattern: '^(mqtt|ws):' } }, { properties: { tls: false } }),
      // Plain text beyond loopback needs allow_insecure: true (a string URL, or any URL of a list).
      ifThen({ url: { anyOf: [{ type: 'string', pattern: PLAIN_REMOTE }, { type: 'array', contains: { type: 'string', pattern: PLAIN_REMOTE } }] } }, { required: ['allow_insecure'], properties: { allow_insecure: { const: true } } }),
    ],
  })
  .superRefine(
    (u, ctx) => {
      const first = typeof u.url === 'string' ? u.url : Array.isArray(u.url) && typeof u.url[0] === 'string' ? u.url[0] : undefined;
      const all: unknown[] = Array.isArray(u.url) ? u.url : [u.url];
      if (u.tls !== undefined && first !== undefined && all.every((x) => typeof x === 'string' && /^(mqtt|ws):/i.test(x))) {
        ctx.addIssue({ code: 'custom', path: ['tls'], message: `tls: settings are ignored with ${first.split(':')[0]}:// — use ${first.startsWith('ws') ? 'wss' : 'mqtts'}:// to connect with TLS` });
      }
      dialectIssues(u, ctx);
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

/** The dialect's own section must match `dialect` (a section for another dialect is a mistake, not a no-op). */
function dialectIssues(u: { dialect?: unknown; sparkplug?: unknown; thingsboard?: { access_token?: unknown }; encoding?: unknown; topic_root?: unknown; username?: unknown }, ctx: z.RefinementCtx): void {
  thingsboardIssues(u, ctx);
  if (u.dialect === 'sparkplug' && u.sparkplug === undefined) {
    ctx.addIssue({ code: 'custom', path: ['dialect'], message: 'dialect: sparkplug needs an uplink.sparkplug section with at least group_id (docs/sparkplug.md)' });
  }
  if (u.dialect !== 'sparkplug' && u.sparkplug !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['sparkplug'], message: `uplink.sparkplug applies to dialect: sparkplug only (dialect is ${String(u.dialect ?? 'citygate')}) — set dialect: sparkplug or remove the section` });
  }
  if (u.dialect !== undefined && u.dialect !== 'citygate' && u.encoding === 'compact') {
    ctx.addIssue({ code: 'custom', path: ['encoding'], message: `encoding: compact is citygate's own data format; dialect ${String(u.dialect)} has its own payloads — remove encoding or use dialect: citygate` });
  }
}

export const bufferSchema = z.strictObject({
  max_bytes: size({ min: 1024 ** 2, why: 'every file counts (database, WAL, reserve): less cannot hold the database itself' }).prefault('256MiB').meta({ description: 'Most disk space the buffer uses, all its files counted (database, WAL, reserve); past it, or past the free space, the policy in on_full applies.' }),
  max_age: duration({ min: 10_000, why: 'readings would expire before a broker reconnect' }).prefault('14d').meta({ description: 'Readings older than this are dropped (and the drop reported).' }),
  on_full: z
    .enum(['drop_oldest', 'reject_newest'])
    .default('drop_oldest')
    .meta({ description: 'When max_bytes is reached: drop the oldest readings, or refuse new ones.' }),
  commit_interval: duration({ min: 1, why: '0 would commit in a busy loop' }).prefault('100ms').meta({ description: 'Group commit period: the most a power cut can lose.' }),
  commit_max: z.number().int().min(1).max(100_000).default(5000).meta({ description: 'Commit early once this many readings wait.' }),
  synchronous: z
    .enum(['full', 'normal'])
    .default('full')
    .meta({ description: 'full survives power loss after commit; normal is faster but may lose the last commits.' }),
  on_corrupt: z
    .enum(['move_aside', 'refuse'])
    .default('move_aside')
    .meta({ description: 'A buffer database that fails to open or check: move it aside (kept) and start a new one, announcing the seqs it may have held; or refuse to start.' }),
});

export const healthSchema = z.strictObject({
  interval: duration({ min: 100, why: '0 would publish health in a busy loop' }).prefault('60s').meta({ description: 'How often the retained health snapshot is published.' }),
  http: z
    .union([z.literal(false), z.string()], {
      error: (iss) =>
        typeof iss.input === 'number'
          ? `expected host:port, got ${iss.input} — write "127.0.0.1:${iss.input}" (loopback only) or "0.0.0.0:${iss.input}" (every interface)`
          : `expected host:port like "127.0.0.1:8787", or false to turn the status page off, got ${JSON.stringify(iss.input)}`,
    })
    .check((ctx) => {
      const problem = typeof ctx.value === 'string' ? listenAddressProblem(ctx.value) : undefined;
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
    })
    .meta({ anyOf: [{ const: false }, { type: 'string', pattern: `^([^:[\\]\\s]+|\\[[0-9A-Fa-f:.]+\\]):${PORT}$` }] })
    .default('127.0.0.1:8787')
    .meta({ description: 'Local status page, /health JSON and /metrics (Prometheus); false to disable. Beyond loopback (e.g. 0.0.0.0:8787) health.auth is required: validate and run refuse it without.', substitution: 'address' }),
  auth: credential(httpAuthSchema.optional()),
}).check((ctx) => {
  // Beyond loopback the page refuses to start without auth: say so here, not at run time.
  const listen = ctx.value.http;
  if (typeof listen !== 'string' || ctx.value.auth || isLoopbackListen(listen.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''))) return;
  ctx.issues.push({ code: 'custom', path: ['http'], input: listen, message: `${listen} is beyond loopback and health.auth is not set: the status page (and /health, /metrics) would not start — add health.auth: { token: \${STATUS_TOKEN} } (or username and password), or listen on 127.0.0.1:${listen.split(':').pop()}` });
});

export const gatewaySchema = z.strictObject({
  id: address(topicId.meta({ description: 'Gateway id: [a-z0-9-_]; used in topics and the MQTT client id.' })),
  data_dir: address(
    z
      .string()
      .refine((p) => !/^\/(proc|sys|dev)(\/|$)/.test(p), { message: '/proc, /sys and /dev are the kernel\'s, not a place for data — use a directory on the card, like /var/lib/citygate' })
      .default('/var/lib/citygate')
      .meta({ description: 'Where the buffer and state live.' }),
  ),
});

function union<T extends { schema: z.ZodType }>(key: string, defs: readonly T[]) {
  const options = defs.map((d) => d.schema);
  if (options.length === 0) return z.never();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's discriminatedUnion wants a tuple of object schemas
  return z.discriminatedUnion(key, options as any);
}

export const busSchema = union('type', BUSES);
export const deviceSchema = union('driver', DRIVERS);

export const configSchema = z.strictObject({
  gateway: gatewaySchema,
  uplink: uplinkSchema,
  buffer: bufferSchema.prefault({}),
  health: healthSchema.prefault({}),
  buses: z.record(topicId, busSchema).default({}),
  devices: z.array(deviceSchema).default([]),
  commands: commandsSchema.prefault({}),
  homeassistant: homeAssistantSchema.prefault({}),
});

export type GatewayConfig = z.output<typeof configSchema>;
export type UplinkConfig = z.output<typeof uplinkSchema>;
export type BufferConfig = z.output<typeof bufferSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
export type DeviceConfig = { id: string; driver: string; enabled: boolean } & Record<string, unknown>;

/** The JSON Schema for editors (yaml-language-server), generated from the same schema. */
export function jsonSchema(): Record<string, unknown> {
  return editorSchema(configSchema, {
    drivers: DRIVERS.map((d) => ({ name: d.name, description: d.description })),
    buses: BUSES.map((b) => ({ name: b.type, description: b.description })),
  });
}

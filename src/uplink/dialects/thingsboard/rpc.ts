/**
 * ThingsBoard RPC → citygate commands, and the answers back. Pure.
 *
 * Two ways in, both as ThingsBoard documents them:
 * - to a device behind the gateway, on `v1/gateway/rpc`:
 *   `{"device":"Device A","data":{"id":1,"method":"modbus_write","params":{…}}}`,
 *   answered on the same topic: `{"device":"Device A","id":1,"data":{…}}`;
 * - to the gateway device itself, on `v1/devices/me/rpc/request/<id>`:
 *   `{"method":"ping","params":{}}`, answered on `v1/devices/me/rpc/response/<id>`.
 *
 * The method is the citygate command name and `params` its `args`; a device RPC adds
 * `device` (the citygate id of the device it was sent to, whatever params said). The
 * request is handed to citygate's dispatcher as an ordinary `{"id","args"}` request, so
 * `commands.allow`, `commands.writes`, the rate limit, the duplicate rule and the
 * refusal budget apply unchanged. The citygate request id is
 * `tb:<device or me>:<ThingsBoard id>:<8 hex of a hash of device, method and params>`:
 * ThingsBoard sends a persistent RPC again with the same id (answered from memory, not
 * executed twice), while its ids restart after a ThingsBoard restart — a reused id with
 * other params is a new request. The answer's `data`: `{"success":true,"result":…}` or
 * `{"success":false,"error":"…"}` (plus `details` and `duplicate` as in citygate's reply).
 */
import { createHash } from 'node:crypto';
import type { CommandReplyPayload } from '../../../core/payloads.js';
import type { DeviceNames } from './names.js';
import { TB, gatewayRpcRequestId, gatewayRpcResponse, type TbPublish } from './topics.js';

/** Where an answer goes. */
export type RpcOrigin = { kind: 'device'; name: string; id: unknown } | { kind: 'gateway'; requestId: string };

export interface RpcCall {
  /** The citygate command (the RPC method). */
  command: string;
  /** The request as citygate's dispatcher reads it: `{"id":…,"args":…}`. */
  request: Buffer;
  origin: RpcOrigin;
}

/**
 * A call; or nothing to do: `reply` is an RPC answer on the shared topic (our own, seen
 * again on a plain broker where 3.1.1 cannot ask not to get it), `error` an unreadable request.
 */
export type RpcParse = { ok: true; call: RpcCall } | { ok: false; reply: true } | { ok: false; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message})` };
  }
}

/**
 * `params` as citygate args: an object as it is; absent, null or "" as {}; a string
 * holding a JSON object (some ThingsBoard widgets send params as text) as that object.
 * Anything else is passed on unchanged, and the dispatcher refuses it ("args" must be an object).
 */
export function argsOf(params: unknown): unknown {
  if (params === undefined || params === null || params === '') return {};
  if (typeof params === 'string') {
    try {
      const v: unknown = JSON.parse(params);
      if (isObject(v)) return v;
    } catch {
      // not JSON: refused below as it is
    }
  }
  return params;
}

/** The citygate request id of a ThingsBoard RPC (see the header). */
export function requestId(scope: string, tbId: unknown, method: string, params: unknown): string | undefined {
  if (typeof tbId !== 'number' && typeof tbId !== 'string') return undefined;
  const hash = createHash('sha256').update(JSON.stringify([scope, method, params ?? null])).digest('hex').slice(0, 8);
  // A citygate id is 1–128 printable characters without spaces: a ThingsBoard name may have spaces.
  const printable = (s: string): string => s.replace(/[^\x21-\x7e]/g, '_');
  return `tb:${printable(scope).slice(0, 64)}:${printable(String(tbId)).slice(0, 40)}:${hash}`;
}

function request(id: string | undefined, args: unknown): Buffer {
  return Buffer.from(JSON.stringify(id === undefined ? { args } : { id, args }));
}

/** A `v1/gateway/rpc` request. */
export function parseDeviceRpc(payload: Buffer, names: DeviceNames): RpcParse {
  const parsed = parseJson(payload);
  if (!parsed.ok) return { ok: false, error: `v1/gateway/rpc: ${parsed.error}` };
  const body = parsed.value;
  if (!isObject(body) || typeof body.device !== 'string' || !isObject(body.data)) {
    return { ok: false, error: 'v1/gateway/rpc: expected {"device":"…","data":{"id":…,"method":"…","params":…}}' };
  }
  // An answer on the shared topic has the id outside data and no method: not for us.
  if ('id' in body && !('method' in body.data)) return { ok: false, reply: true };
  const { id, method, params } = body.data;
  const name = body.device;
  // A name not of our template is passed on as it is: the command refuses it as an unknown device.
  const device = names.device(name) ?? name;
  const command = typeof method === 'string' ? method : '';
  const args = argsOf(params);
  const withDevice = isObject(args) ? { ...args, device } : args;
  return { ok: true, call: { command, request: request(requestId(device, id, command, params), withDevice), origin: { kind: 'device', name, id } } };
}

/** A `v1/devices/me/rpc/request/<id>` request (to the gateway itself). */
export function parseGatewayRpc(topic: string, payload: Buffer): RpcParse {
  const reqId = gatewayRpcRequestId(topic);
  if (reqId === undefined) return { ok: false, error: `${topic}: not an RPC request topic` };
  const parsed = parseJson(payload);
  const body = parsed.ok ? parsed.value : undefined;
  const origin: RpcOrigin = { kind: 'gateway', requestId: reqId };
  if (!isObject(body)) {
    // Answered (ThingsBoard waits for it): the dispatcher refuses the unreadable request.
    return { ok: true, call: { command: '', request: Buffer.from(payload), origin } };
  }
  const command = typeof body.method === 'string' ? body.method : '';
  return { ok: true, call: { command, request: request(requestId('me', reqId, command, body.params), argsOf(body.params)), origin } };
}

/** The answer's `data` (device RPC) or whole payload (gateway RPC). */
export function replyData(reply: CommandReplyPayload): Record<string, unknown> {
  const data: Record<string, unknown> = { success: reply.ok };
  if (reply.result !== undefined) data.result = reply.result;
  if (reply.error !== undefined) data.error = reply.error;
  if (reply.details?.length) data.details = reply.details;
  if (reply.duplicate) data.duplicate = true;
  return data;
}

/** Where and what to publish for `reply` to a call from `origin`. */
export function rpcReply(origin: RpcOrigin, reply: CommandReplyPayload): TbPublish {
  const data = replyData(reply);
  if (origin.kind === 'gateway') return { topic: gatewayRpcResponse(origin.requestId), payload: JSON.stringify(data) };
  return { topic: TB.rpc, payload: JSON.stringify({ device: origin.name, id: origin.id, data }) };
}

/**
 * The ThingsBoard topics citygate uses (docs/thingsboard.md). ThingsBoard fixes them:
 * there is no topic root. The gateway API (`v1/gateway/…`) carries the devices behind
 * the gateway, named in each payload; the device API (`v1/devices/me/…`) carries the
 * gateway's own telemetry, attributes and RPC, because the gateway is itself a
 * ThingsBoard device.
 *
 * | topic                               | direction   | payload                                  |
 * | v1/gateway/connect                  | up          | {"device":"…"}                           |
 * | v1/gateway/disconnect               | up          | {"device":"…"}                           |
 * | v1/gateway/telemetry                | up          | {"<device>":[{"ts":…,"values":{…}}]}     |
 * | v1/gateway/attributes               | up          | {"<device>":{…}}                         |
 * | v1/gateway/rpc                      | down and up | request {"device","data":{id,method,params}}, reply {"device","id","data"} |
 * | v1/devices/me/telemetry             | up          | [{"ts":…,"values":{…}}] (the gateway's own: events, health) |
 * | v1/devices/me/attributes            | up          | {…} (the gateway's own)                  |
 * | v1/devices/me/rpc/request/<id>      | down        | {"method","params"} (RPC to the gateway itself) |
 * | v1/devices/me/rpc/response/<id>     | up          | the reply's data                          |
 */
export const TB = {
  connect: 'v1/gateway/connect',
  disconnect: 'v1/gateway/disconnect',
  telemetry: 'v1/gateway/telemetry',
  attributes: 'v1/gateway/attributes',
  rpc: 'v1/gateway/rpc',
  gatewayTelemetry: 'v1/devices/me/telemetry',
  gatewayAttributes: 'v1/devices/me/attributes',
  /** Subscription filter for RPC requests to the gateway device itself. */
  gatewayRpcRequests: 'v1/devices/me/rpc/request/+',
} as const;

const GATEWAY_RPC_PREFIX = 'v1/devices/me/rpc/request/';

/** Where the reply to gateway RPC request `requestId` goes. */
export function gatewayRpcResponse(requestId: string): string {
  return `v1/devices/me/rpc/response/${requestId}`;
}

/** The request id of a gateway RPC request topic, or undefined when it is not one. */
export function gatewayRpcRequestId(topic: string): string | undefined {
  if (!topic.startsWith(GATEWAY_RPC_PREFIX)) return undefined;
  const id = topic.slice(GATEWAY_RPC_PREFIX.length);
  return id.length > 0 && !id.includes('/') ? id : undefined;
}

/** Every topic citygate subscribes to in the ThingsBoard dialect. */
export const TB_SUBSCRIPTIONS: readonly string[] = [TB.rpc, TB.gatewayRpcRequests];

/** One MQTT publish the dialect asks for (QoS 1, never retained: ThingsBoard keeps its own state). */
export interface TbPublish {
  topic: string;
  payload: string;
}

/**
 * The dialect a config asks for (`uplink.dialect`; the seam: dialect.ts).
 *
 *   dialect.ts     the Dialect interface and its contract
 *   citygate.ts    citygate's own topics (the default)
 *   sparkplug/     a Sparkplug B 3.0 edge node (docs/sparkplug.md)
 *   thingsboard.ts the ThingsBoard gateway API (docs/thingsboard.md; codecs in thingsboard/)
 */
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { UserError } from '../../core/errors.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { Topics } from '../topics.js';
import type { Dialect } from './dialect.js';
import { CitygateDialect } from './citygate.js';
import { ThingsboardDialect } from './thingsboard.js';
import { SparkplugDialect } from './sparkplug/edge-node.js';
import type { DeviceState } from '../../core/health-reporter.js';
import { LogLimiter } from '../../core/log-limiter.js';
import { DEFAULT_DEVICE_NAME } from '../../config/thingsboard.js';

export type { Dialect, DialectName, CommandRoute, CommandRequest, WireMessage, DialectLink } from './dialect.js';

export interface DialectContext {
  config: GatewayConfig;
  topics: Topics;
  version: string;
  /** Epoch ms when this run of the gateway started. */
  startedAt: number;
  clock: Clock;
  log: Logger;
  /** The state of every configured device now (thingsboard: connect at link up). */
  deviceStates?: () => Record<string, DeviceState>;
}

export function createDialect(ctx: DialectContext): Dialect {
  const name = ctx.config.uplink.dialect;
  switch (name) {
    case 'citygate':
      return new CitygateDialect({ topics: ctx.topics, version: ctx.version, startedAt: ctx.startedAt });
    case 'thingsboard': {
      const limiter = new LogLimiter(ctx.clock);
      return new ThingsboardDialect({
        gatewayId: ctx.config.gateway.id,
        version: ctx.version,
        startedAt: ctx.startedAt,
        deviceName: ctx.config.uplink.thingsboard?.device_name ?? DEFAULT_DEVICE_NAME,
        deviceStates: ctx.deviceStates ?? (() => ({})),
        warn: (text) => {
          const { log, repeats } = limiter.hit();
          if (log) ctx.log.warn(repeats ? { repeats } : {}, text);
        },
      });
    }
    case 'sparkplug': {
      const sp = ctx.config.uplink.sparkplug;
      if (!sp) throw new UserError('uplink.dialect: sparkplug needs an uplink.sparkplug section with at least group_id (docs/sparkplug.md)');
      return new SparkplugDialect({
        group: sp.group_id,
        edgeNode: sp.edge_node_id ?? ctx.config.gateway.id,
        ...(sp.primary_host !== undefined ? { primaryHost: sp.primary_host } : {}),
        devices: ctx.config.devices,
        dataDir: ctx.config.gateway.data_dir,
        version: ctx.version,
        clock: ctx.clock,
        log: ctx.log,
      });
    }
    default:
      throw new UserError(`uplink.dialect: ${name} is not built in this version — use citygate, sparkplug or thingsboard`);
  }
}

/** The `--config` option shared by commands that act on an installed gateway. */
import type { Command } from 'commander';
import { loadConfigFile } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { SqliteBuffer } from '../buffer/sqlite-buffer.js';
import { systemClock } from '../core/clock.js';
import { UserError } from '../core/errors.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_CONFIG = '/etc/citygate/gateway.yaml';

export function withConfig(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'gateway YAML', DEFAULT_CONFIG);
}

export function readConfig(file: string): GatewayConfig {
  return loadConfigFile(file, { missingEnv: 'warn' }).config;
}

/** Open the buffer of an installed gateway (it must already exist). */
export function openBuffer(config: GatewayConfig): SqliteBuffer {
  const db = join(config.gateway.data_dir, 'buffer.db');
  if (!existsSync(db)) throw new UserError(`no buffer at ${db} — has the gateway run with this config (gateway.data_dir)?`);
  return new SqliteBuffer({
    dataDir: config.gateway.data_dir,
    maxBytes: config.buffer.max_bytes,
    maxAgeMs: config.buffer.max_age,
    onFull: config.buffer.on_full,
    synchronous: config.buffer.synchronous,
    maxReadingsPerRow: config.uplink.batch.max_readings,
    clock: systemClock,
  });
}

/**
 * The built-in commands. Each takes the request's `args` and resolves with a result
 * (the reply's `result`) or rejects with an error a person can act on (the reply's
 * `error`). They act through `CommandHost`, the slice of the gateway they may touch.
 *
 *   ping            {}                              → { pong, version, uptime_s }
 *   health          {}                              → publishes the retained health now
 *   restart_device  { device }                      → stops and starts that device's driver
 *   reload_config   {}                              → applies the config file as it is on disk now
 *   config          { yaml }                        → validates, writes and applies a whole new config
 *   gpio_set        { device, value }               → a gpio output device's level
 *   modbus_write    { device, point, value, verify? } → writes a writable point; reads back (verify, default on)
 *   update          { url, sha256? }                → fetches a release bundle (https) and its <url>.sig,
 *                                                     checks the signature (refused: unsigned, unknown
 *                                                     key, bad signature, hash mismatch, older than the
 *                                                     running version, other arch) and hands it to
 *                                                     citygate-update.service (src/release/request.ts),
 *                                                     which verifies it again as root
 *
 * Writes are allow-listed twice: the command in `commands.allow`, and the device (and
 * point) in `commands.writes`.
 */
import type { Driver } from '../core/driver.js';
import type { ReloadResult } from '../control/reload.js';
import { basename } from 'node:path';
import { fetchBundle } from '../release/fetch-bundle.js';
import { pendingRequest, updatesDir, writeRequest } from '../release/request.js';
import { checkDigest, checkSignature } from '../release/verify-bundle.js';
import { DEFAULT_TRUST_DIR, loadTrust } from '../release/trust.js';
import { CommandError } from './dispatcher.js';
import type { CommandsConfig, CommandName } from './schema.js';

export type CommandHandler = (args: Record<string, unknown>) => Promise<unknown>;

export interface CommandHost {
  version: string;
  uptimeSeconds(): number;
  /** Publish the retained health snapshot now; false when the uplink is offline. */
  publishHealth(): boolean;
  deviceIds(): string[];
  /** Stop and start one device's driver. */
  restartDevice(device: string): Promise<void>;
  /** The device's running driver, if it is running. */
  driver(device: string): Driver | undefined;
  /** Config changes; undefined when the gateway was not started from a file. */
  reloader(): { applyText(text: string): Promise<ReloadResult>; reloadFromFile(): Promise<ReloadResult> } | undefined;
  /** The buffer's directory: updates are fetched into its `updates/`. */
  dataDir(): string;
  /** The trusted release keys' directory; /etc/citygate/keys when not given (never from the config: see trust.ts). */
  trustDir?: string;
}

function reloader(host: CommandHost, command: string) {
  const r = host.reloader();
  if (!r) throw new Error(`${command}: this gateway was not started from a config file (citygate run --config …)`);
  return r;
}

function reloadOutcome(r: ReloadResult): unknown {
  if (!r.ok) throw new CommandError(r.error, r.errors ?? []);
  return r;
}

function stringArg(args: Record<string, unknown>, key: string, command: string): string {
  const v = args[key];
  if (typeof v !== 'string' || v.length === 0) throw new Error(`${command} needs "${key}" (a string) in args`);
  return v;
}

function knownDevice(host: CommandHost, device: string, command: string): void {
  const ids = host.deviceIds();
  if (!ids.includes(device)) throw new Error(`${command}: no device "${device}" on this gateway (devices: ${ids.join(', ') || 'none'})`);
}

/**
 * commands.writes allows the device (and point). A Modbus point needs `writable: true`
 * on the point as well (the driver refuses otherwise): a refusal here names both steps,
 * in the order they are done in the config, since the driver's check comes after.
 */
function checkWrite(config: CommandsConfig, command: string, device: string, point?: string): void {
  const rule = config.writes[device];
  const pointStep = point === undefined ? '' : `set writable: true on point "${point}" of device ${device} (under devices:), then `;
  const also = point === undefined ? '' : ` — both are needed`;
  if (rule === undefined) throw new Error(`${command}: device "${device}" is not writable from the downlink — ${pointStep}add it under commands.writes${point === undefined ? '' : ` (commands.writes.${device}: [${point}])`}${also}`);
  if (point !== undefined && rule !== '*' && !rule.includes(point)) {
    throw new Error(`${command}: point "${point}" of ${device} is not writable from the downlink — ${pointStep}add it to commands.writes.${device}${also}`);
  }
}

async function runAction(host: CommandHost, device: string, action: string, args: Record<string, unknown>): Promise<unknown> {
  const driver = host.driver(device);
  if (!driver) throw new Error(`${action}: device "${device}" is not running right now (see its state in health) — try again once it is ok`);
  const fn = driver.actions?.[action];
  if (!fn) throw new Error(`${action}: device "${device}" does not support ${action}`);
  return fn(args);
}

export function builtinCommands(host: CommandHost, commandsConfig: () => CommandsConfig): Record<CommandName, CommandHandler> {
  return {
    ping: async () => ({ pong: true, version: host.version, uptime_s: host.uptimeSeconds() }),
    health: async () => {
      if (!host.publishHealth()) throw new Error('health: the uplink is not online; not published');
      return { published: true };
    },
    restart_device: async (args) => {
      const device = stringArg(args, 'device', 'restart_device');
      knownDevice(host, device, 'restart_device');
      await host.restartDevice(device);
      return { device, restarted: true };
    },
    reload_config: async () => reloadOutcome(await reloader(host, 'reload_config').reloadFromFile()),
    config: async (args) => {
      const yaml = args.yaml;
      if (typeof yaml !== 'string' || yaml.trim() === '') throw new Error('config needs "yaml" in args: the whole gateway config as a string');
      return reloadOutcome(await reloader(host, 'config').applyText(yaml));
    },
    gpio_set: async (args) => {
      const device = stringArg(args, 'device', 'gpio_set');
      knownDevice(host, device, 'gpio_set');
      checkWrite(commandsConfig(), 'gpio_set', device);
      const { device: _d, ...rest } = args;
      return runAction(host, device, 'gpio_set', rest);
    },
    modbus_write: async (args) => {
      const device = stringArg(args, 'device', 'modbus_write');
      const point = stringArg(args, 'point', 'modbus_write');
      knownDevice(host, device, 'modbus_write');
      checkWrite(commandsConfig(), 'modbus_write', device, point);
      const { device: _d, ...rest } = args;
      return runAction(host, device, 'modbus_write', rest);
    },
    update: async (args) => {
      const url = stringArg(args, 'url', 'update');
      const sha256 = args.sha256 === undefined ? undefined : stringArg(args, 'sha256', 'update');
      const dataDir = host.dataDir();
      if (pendingRequest(dataDir)) throw new Error('update: an update is already waiting to be installed — wait for its update_result event');
      const { max_bytes: maxBytes, ca } = commandsConfig().update;
      const check = (got: { sig: string | undefined; sha256: string; bytes: number }): void => {
        const name = basename(new URL(url).pathname);
        const v = checkSignature(got.sig, name, { trust: loadTrust(host.trustDir ?? DEFAULT_TRUST_DIR), arch: process.arch, runningVersion: host.version });
        checkDigest(v, name, got.sha256, got.bytes);
      };
      const f = await fetchBundle({ url, dir: updatesDir(dataDir), maxBytes, check, ...(sha256 ? { sha256 } : {}), ...(ca ? { ca } : {}) }).catch((err: Error) => {
        throw new Error(err.message.startsWith('update refused:') ? err.message : `update: ${err.message}`);
      });
      writeRequest(dataDir, { bundle: f.bundle, sha256: f.sha256, request_id: null, requested_at: Date.now() });
      return {
        accepted: true,
        bundle: basename(f.bundle),
        bytes: f.bytes,
        next: 'citygate-update.service installs it and restarts the gateway (rolling back if it is not healthy); the outcome is published as an update_result event',
      };
    },
  };
}

/**
 * Downlink commands: `<root>/cmd/<name>` requests (or the uplink dialect's form of them), allow-listed in the config's
 * `commands:` section, answered on the MQTT 5 response topic or `cmd/<name>/reply`.
 *
 *   schema.ts        the `commands:` config section
 *   protocol.ts      request parsing and reply encoding (pure)
 *   limits.ts        rate limit and remembered request ids (bounded)
 *   dispatcher.ts    one request → one answer, events and log for each
 *   builtins.ts      ping, health, restart_device, reload_config, config, gpio_set, modbus_write, update
 *   mqtt-downlink.ts subscription and reply routing over the uplink's connection (the dialect's route)
 *
 * `wireCommands` is the one call the gateway makes.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Driver } from '../core/driver.js';
import type { EventBody, Topics } from '../uplink/topics.js';
import type { CommandsConfig } from './schema.js';
import type { ConfigReloader } from '../control/reload.js';
import { CommandDispatcher } from './dispatcher.js';
import { builtinCommands } from './builtins.js';
import { attachCommands, type ReplyChannel } from './mqtt-downlink.js';
import type { CommandRoute } from '../uplink/dialects/dialect.js';
import { citygateCommands } from '../uplink/dialects/citygate.js';

/** What of the gateway the commands need. */
export interface CommandGatewayView {
  readonly config: { commands: CommandsConfig; gateway: { data_dir: string } };
  readonly topics: Topics;
  readonly uplink: ReplyChannel;
  /** How commands come in and replies go out (the uplink dialect's); default citygate's `cmd/<name>`. */
  readonly commandRoute?: CommandRoute;
  /** Records an event for `events` and wakes the uplink. */
  readonly events: { emit(e: EventBody): void };
  readonly clock: Clock;
  readonly log: Logger;
  readonly devices: readonly { id: string; supervisor: { stop(): Promise<void>; start(): Promise<void> } }[];
  driver(device: string): Driver | undefined;
  publishHealthNow(): boolean;
  uptimeSeconds(): number;
  readonly version: string;
  readonly reloader: ConfigReloader | undefined;
}

/** `trustDir`: the release keys `update` trusts (default /etc/citygate/keys). */
export function wireCommands(g: CommandGatewayView, trustDir?: string): CommandDispatcher {
  const log = g.log.child({ part: 'commands' });
  const handlers = builtinCommands(
    {
      version: g.version,
      uptimeSeconds: () => g.uptimeSeconds(),
      publishHealth: () => g.publishHealthNow(),
      deviceIds: () => g.devices.map((d) => d.id),
      driver: (id) => g.driver(id),
      reloader: () => g.reloader,
      dataDir: () => g.config.gateway.data_dir,
      ...(trustDir ? { trustDir } : {}),
      async restartDevice(id) {
        const d = g.devices.find((x) => x.id === id);
        if (!d) throw new Error(`restart_device: no device "${id}"`);
        await d.supervisor.stop();
        await d.supervisor.start();
      },
    },
    () => g.config.commands,
  );
  const dispatcher = new CommandDispatcher({
    config: g.config.commands,
    handlers,
    clock: g.clock,
    log,
    event: (e) => g.events.emit(e),
  });
  attachCommands(g.uplink, g.commandRoute ?? citygateCommands(g.topics), dispatcher, log);
  return dispatcher;
}

export { commandsSchema, COMMAND_NAMES, type CommandsConfig } from './schema.js';

/**
 * The `commands:` section of the gateway config: which downlink commands this gateway
 * answers, which devices and points they may write, and how fast. Nothing is allowed
 * unless listed (a gateway with no `commands:` section refuses every command, with a
 * reply saying so).
 */
import { z } from 'zod';
import { duration, pointName, size, topicId } from '../core/primitives.js';
import { credential } from '../core/secret-mark.js';

/** Every built-in command name, for the allow-list and its editor completion. */
export const COMMAND_NAMES = ['ping', 'health', 'restart_device', 'reload_config', 'config', 'gpio_set', 'modbus_write', 'update'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/**
 * What a remote config (the `config` command, or a reload of a file the gateway itself
 * may write) may change. Everything else — the uplink's address, credentials and TLS,
 * health.auth, commands.update.ca and this policy itself — changes only in the gateway's
 * own file, and a restart (src/control/remote-policy.ts).
 */
export const REMOTE_SECTIONS = [
  'devices',
  'buses',
  'health.interval',
  'homeassistant',
  'buffer',
  'commands.allow',
  'commands.writes',
  'commands.rate',
  'commands.remember',
  'commands.update.max_bytes',
] as const;
export const DEFAULT_REMOTE: readonly (typeof REMOTE_SECTIONS)[number][] = ['devices', 'buses', 'health.interval'];

const remoteConfigSchema = z
  .strictObject({
    remote_may_change: z
      .array(
        z.enum(REMOTE_SECTIONS, {
          error: (iss) =>
            `${JSON.stringify(iss.input)} cannot be given to a remote config — list any of ${REMOTE_SECTIONS.join(', ')}; the uplink's address, credentials and TLS, health.auth, commands.update.ca and this policy change only in the gateway's own file`,
        }),
      )
      .default([...DEFAULT_REMOTE])
      .meta({
        description: `Sections a remote config (the config command, or reload_config / SIGHUP of a file the gateway's user can write) may change; a config that changes anything else is refused whole, naming the key. Any of: ${REMOTE_SECTIONS.join(', ')}. Default: ${DEFAULT_REMOTE.join(', ')}.`,
      }),
  })
  .prefault({})
  .meta({ description: 'Rights of remote configs. Read from the file the gateway runs: a new config cannot widen them, and they are never changed remotely.' });

export const commandsSchema = z.strictObject({
  allow: z
    .array(z.enum(COMMAND_NAMES, { error: (iss) => `unknown command ${JSON.stringify(iss.input)} — known: ${COMMAND_NAMES.join(', ')}` }))
    .default([])
    .meta({ description: 'Commands this gateway executes (others are answered with an error). Default: none.' }),
  writes: z
    .record(topicId, z.union([z.literal('*'), z.array(pointName)]))
    .default({})
    .meta({
      description:
        'Devices that gpio_set / modbus_write may change: device id → list of writable point names, or "*" for every writable point of that device.',
    }),
  rate: z
    .strictObject({
      max: z.number().int().min(1).max(10_000).default(30).meta({ description: 'Most commands executed per window.' }),
      per: duration({ min: 1000 }).prefault('1m').meta({ description: 'The rate window.' }),
    })
    .prefault({})
    .meta({ description: 'Rate limit over all commands; requests past it are answered "rate limited" and not executed.' }),
  update: z
    .strictObject({
      max_bytes: size({ min: 1024 ** 2 }).prefault('200MiB').meta({ description: 'Largest release bundle the update command downloads (counted while it streams).' }),
      ca: credential(z.string().min(1).optional()).meta({ description: 'PEM file of the CA that signs the download server, when it is not one of the system CAs.' }),
    })
    .prefault({})
    .meta({ description: 'The update command: fetches a release bundle over https into data_dir/updates/ and hands it to citygate-update.service (see deploy/README.md).' }),
  config: remoteConfigSchema,
  remember: z
    .number()
    .int()
    .min(16)
    .max(100_000)
    .default(1000)
    .meta({ description: 'How many recent request ids are remembered: a repeated id gets the first answer again and is not executed twice.' }),
});

export type CommandsConfig = z.output<typeof commandsSchema>;

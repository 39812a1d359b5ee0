/**
 * The `commands:` section of the gateway config: which downlink commands this gateway
 * answers, which devices and points they may write, and how fast. Nothing is allowed
 * unless listed (a gateway with no `commands:` section refuses every command, with a
 * reply saying so).
 */
import { z } from 'zod';
import { duration, pointName, size, topicId } from '../core/primitives.js';
import { credential } from '../config/secret-fields.js';

/** Every built-in command name, for the allow-list and its editor completion. */
export const COMMAND_NAMES = ['ping', 'health', 'restart_device', 'reload_config', 'config', 'gpio_set', 'modbus_write', 'update'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

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
  remember: z
    .number()
    .int()
    .min(16)
    .max(100_000)
    .default(1000)
    .meta({ description: 'How many recent request ids are remembered: a repeated id gets the first answer again and is not executed twice.' }),
});

export type CommandsConfig = z.output<typeof commandsSchema>;

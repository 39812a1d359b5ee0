/**
 * The dialects of `uplink.dialect` (src/uplink/dialects/dialect.ts) and their config sections.
 * Here, not beside the dialects, because the config may not import the uplink (layers).
 *
 * `uplink.sparkplug`: the Sparkplug B 3.0 edge node's identity (docs/sparkplug.md). Sparkplug
 * ids are topic levels: UTF-8 without '/', '+', '#' (tck-id-intro-group-id-chars,
 * -edge-node-id-chars); citygate keeps them to its own id alphabet plus '.' and upper case.
 */
import { z } from 'zod';

export const DIALECTS = ['citygate', 'sparkplug', 'thingsboard'] as const;
export type DialectName = (typeof DIALECTS)[number];

const SPARKPLUG_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const sparkplugId = (what: string) =>
  z
    .string({ error: (iss) => `expected a Sparkplug ${what} like "city-north", got ${JSON.stringify(iss.input)}` })
    .regex(SPARKPLUG_ID, { error: (iss) => `${JSON.stringify(iss.input)} is not a valid Sparkplug ${what} — use 1 to 64 of A-Z, a-z, 0-9, '.', '-' and '_' (it is a topic level: '/', '+', '#' and spaces break subscriptions)` });

export const sparkplugSchema = z.strictObject({
  group_id: sparkplugId('group id').meta({ description: 'Sparkplug Group ID: the second level of every spBv1.0 topic (a logical group of edge nodes, e.g. a district).' }),
  edge_node_id: sparkplugId('edge node id').optional().meta({ description: 'Sparkplug Edge Node ID (default: gateway.id). Unique within the group.' }),
  primary_host: sparkplugId('host id')
    .optional()
    .meta({ description: 'Host id of the Primary Host Application (Ignition: its MQTT Engine host id). When set, nothing is published until spBv1.0/STATE/<primary_host> says online, and the node dies (NDEATH) and reconnects when it says offline; data kept meanwhile arrives marked is_historical.' }),
});

export type SparkplugConfig = z.output<typeof sparkplugSchema>;

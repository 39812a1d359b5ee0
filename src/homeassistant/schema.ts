/** The `homeassistant:` config section: MQTT discovery for Home Assistant, off by default. */
import { z } from 'zod';
import { duration } from '../core/primitives.js';

export const homeAssistantSchema = z
  .strictObject({
    enabled: z.boolean().default(false).meta({ description: 'Announce every point as a Home Assistant sensor (MQTT discovery).' }),
    prefix: z
      .string()
      .regex(/^[^#+\s]+$/, { error: 'a discovery prefix may not contain "#", "+" or spaces' })
      .default('homeassistant')
      .meta({ description: "Home Assistant's discovery prefix." }),
    interval: duration({ min: 1000 }).prefault('30s').meta({ description: 'How often changed point values are published for Home Assistant.' }),
  })
  .meta({ description: 'Home Assistant MQTT discovery (points appear as sensors; availability from status).' });

export type HomeAssistantConfig = z.output<typeof homeAssistantSchema>;

/**
 * The part of the gateway config discovery reads: the gateway id, the devices and this
 * section. Declared here, not imported from config (config imports this folder's schema).
 */
export interface HomeAssistantView {
  gateway: { id: string };
  devices: readonly unknown[];
  homeassistant: HomeAssistantConfig;
}

/**
 * `uplink.thingsboard`: the ThingsBoard dialect's settings (docs/thingsboard.md). The
 * access token is the gateway device's credential in ThingsBoard: it goes to the broker as
 * the MQTT user name, and like any credential takes `${ENV}` or `!secret` and is never
 * logged or published.
 */
import { z } from 'zod';
import { credential } from './secret-fields.js';

/** The default ThingsBoard name of a device: ThingsBoard names are unique per tenant, so the gateway id is in it. */
export const DEFAULT_DEVICE_NAME = '{gateway}.{device}';

/** What is wrong with a device name template, or undefined when it is usable. */
export function deviceNameProblem(template: string): string | undefined {
  const devices = template.split('{device}').length - 1;
  if (devices !== 1) return `the device name must contain {device} exactly once (every device needs its own ThingsBoard name), got ${JSON.stringify(template)}`;
  const gateways = template.split('{gateway}').length - 1;
  if (gateways > 1) return `{gateway} may appear at most once, got ${JSON.stringify(template)}`;
  const rest = template.replace('{device}', '').replace('{gateway}', '');
  if (/[{}]/.test(rest)) return `only {gateway} and {device} may appear in braces, got ${JSON.stringify(template)}`;
  if (rest.length + 128 > 255) return 'the device name template is too long (ThingsBoard names are at most 255 characters)';
  return undefined;
}

export const thingsboardSchema = z
  .strictObject({
    access_token: credential(
      z
        .string()
        .min(1)
        .optional()
        .meta({ description: "The gateway device's access token in ThingsBoard (sent as the MQTT user name). Use ${ENV} or !secret name; leave uplink.username unset." }),
    ),
    device_name: z
      .string()
      .check((ctx) => {
        const problem = deviceNameProblem(ctx.value);
        if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
      })
      .default(DEFAULT_DEVICE_NAME)
      .meta({ description: 'ThingsBoard name of each device: {gateway} is gateway.id, {device} the device id. Names are unique per ThingsBoard tenant, so keep {gateway} in unless every gateway has its own device ids.' }),
  })
  .meta({ description: 'The ThingsBoard dialect (uplink.dialect: thingsboard): how the gateway signs in and names its devices.' });

export type ThingsboardConfig = z.output<typeof thingsboardSchema>;

/** `uplink` settings that make no sense with (or without) the ThingsBoard dialect: config errors naming the fix. */
export function thingsboardIssues(u: { dialect?: unknown; thingsboard?: { access_token?: unknown }; topic_root?: unknown; username?: unknown }, ctx: z.RefinementCtx): void {
  const tb = u.dialect === 'thingsboard';
  if (!tb && u.thingsboard !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['thingsboard'], message: `uplink.thingsboard applies to dialect: thingsboard only (dialect is ${String(u.dialect ?? 'citygate')}) — set dialect: thingsboard or remove the section` });
  }
  if (tb && u.topic_root !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['topic_root'], message: 'topic_root does not apply to dialect: thingsboard (ThingsBoard fixes its topics: v1/gateway/…) — remove it' });
  }
  if (tb && u.thingsboard?.access_token !== undefined && u.username !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'the access token is the MQTT user name: give uplink.thingsboard.access_token or uplink.username (ThingsBoard basic MQTT credentials), not both' });
  }
}

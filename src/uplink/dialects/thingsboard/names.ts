/**
 * ThingsBoard device names. ThingsBoard names a device once per tenant, so two gateways
 * that both have a `meter-1` must not both call it `meter-1`: the name is a template of
 * `{gateway}` (gateway.id) and `{device}` (the device id), `{gateway}.{device}` by
 * default. The mapping is one to one both ways (RPC requests name the device by its
 * ThingsBoard name): ids are `[a-z0-9_-]`, and the template's literal text is fixed.
 * Pure.
 */

import { deviceNameProblem } from '../../../config/thingsboard.js';

export { DEFAULT_DEVICE_NAME, deviceNameProblem } from '../../../config/thingsboard.js';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class DeviceNames {
  private readonly pattern: RegExp;
  private readonly prefix: string;
  private readonly suffix: string;

  /** `template` must be usable (deviceNameProblem): the config schema checks it. */
  constructor(
    template: string,
    readonly gateway: string,
  ) {
    const problem = deviceNameProblem(template);
    if (problem) throw new Error(`uplink.thingsboard.device_name: ${problem}`);
    const filled = template.replace('{gateway}', gateway);
    const [prefix, suffix] = filled.split('{device}') as [string, string];
    this.prefix = prefix;
    this.suffix = suffix;
    this.pattern = new RegExp(`^${escapeRegExp(prefix)}([a-z0-9_-]{1,64})${escapeRegExp(suffix)}$`);
  }

  /** The ThingsBoard name of citygate device `device`. */
  name(device: string): string {
    return `${this.prefix}${device}${this.suffix}`;
  }

  /** The citygate device id a ThingsBoard name stands for, or undefined when it is not one of ours. */
  device(name: string): string | undefined {
    return this.pattern.exec(name)?.[1];
  }
}

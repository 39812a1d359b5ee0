/**
 * The built-in write commands route to the device's driver action only when the
 * device (and point) is allow-listed in commands.writes, and say why not otherwise.
 */
import { describe, expect, it } from 'vitest';
import { builtinCommands, type CommandHost } from '../../../src/commands/builtins.js';
import { commandsSchema } from '../../../src/commands/schema.js';
import type { Driver } from '../../../src/core/driver.js';

function host(drivers: Record<string, Driver | undefined>, dataDir = '/nonexistent'): CommandHost {
  return {
    version: 't',
    uptimeSeconds: () => 1,
    publishHealth: () => false,
    deviceIds: () => Object.keys(drivers),
    restartDevice: async () => undefined,
    driver: (id) => drivers[id],
    reloader: () => undefined,
    dataDir: () => dataDir,
  };
}

describe('gpio_set and modbus_write routing', () => {
  it('calls the action with the args minus device, only where allowed', async () => {
    const calls: unknown[] = [];
    const relay: Driver = { start: async () => {}, stop: async () => {}, actions: { gpio_set: async (a) => (calls.push(a), { pin: 17, value: 1 }) } };
    const sensor: Driver = { start: async () => {}, stop: async () => {}, actions: {} };
    const cfg = commandsSchema.parse({ allow: ['gpio_set', 'modbus_write'], writes: { relay: '*', sensor: '*' } });
    const c = builtinCommands(host({ relay, sensor, stopped: undefined, other: relay }), () => cfg);
    await expect(c.gpio_set({ device: 'relay', value: 'on' })).resolves.toEqual({ pin: 17, value: 1 });
    expect(calls).toEqual([{ value: 'on' }]);
    await expect(c.gpio_set({ device: 'other', value: 1 })).rejects.toThrow(/device "other" is not writable from the downlink — add it under commands.writes/);
    await expect(c.gpio_set({ device: 'sensor', value: 1 })).rejects.toThrow(/device "sensor" does not support gpio_set/);
    await expect(c.gpio_set({ device: 'nope', value: 1 })).rejects.toThrow(/no device "nope" on this gateway/);
    await expect(c.gpio_set({ value: 1 })).rejects.toThrow(/gpio_set needs "device"/);
    await expect(c.modbus_write({ device: 'relay', value: 1 })).rejects.toThrow(/modbus_write needs "point"/);
    // A Modbus point needs writable: true too: both steps, in the order they are done.
    await expect(c.modbus_write({ device: 'other', point: 'limit', value: 1 })).rejects.toThrow(
      'modbus_write: device "other" is not writable from the downlink — set writable: true on point "limit" of device other (under devices:), then add it under commands.writes (commands.writes.other: [limit]) — both are needed',
    );
    const listed = builtinCommands(host({ pump: relay }), () => commandsSchema.parse({ allow: ['modbus_write'], writes: { pump: ['speed'] } }));
    await expect(listed.modbus_write({ device: 'pump', point: 'limit', value: 1 })).rejects.toThrow(
      'modbus_write: point "limit" of pump is not writable from the downlink — set writable: true on point "limit" of device pump (under devices:), then add it to commands.writes.pump — both are needed',
    );
    await expect(c.config({ yaml: 'x: 1' })).rejects.toThrow(/not started from a config file/);
  });

  it('a running gateway says when a device is not running', async () => {
    const cfg = commandsSchema.parse({ allow: ['gpio_set'], writes: { stopped: '*' } });
    const c = builtinCommands(host({ stopped: undefined }), () => cfg);
    await expect(c.gpio_set({ device: 'stopped', value: 1 })).rejects.toThrow(/device "stopped" is not running right now/);
  });
});

/**
 * Port listing for `citygate probe serial --list`. serialport's `list()` shells out to
 * udevadm on Linux and rejects where it is missing (minimal images, containers;
 * docs/field-notes.md#list-without-udevadm): then we fall back to scanning /dev for the usual serial device names,
 * and say so. Either way each port is annotated with its /dev/serial/by-id/ links, the
 * paths integrators should put in config because they survive re-enumeration.
 */
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../../core/errors.js';
import type { SerialPortInfo, SerialPortList } from './port.js';

/** serialport's PortInfo, structurally. */
export interface RawPortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

const DEV_NAMES = /^(ttyUSB|ttyACM|ttyAMA|ttyS|ttyXRUSB|ttymxc|ttySC|serial)\d+$/;

async function byIdLinks(devDir: string): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  const dir = join(devDir, 'serial', 'by-id');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return map; // no USB serial adapters, or no udev: nothing to annotate
  }
  for (const name of names.sort()) {
    const link = join(dir, name);
    try {
      const target = await realpath(link);
      map.set(target, [...(map.get(target) ?? []), link]);
    } catch {
      // dangling link (adapter unplugged a moment ago): not a port
    }
  }
  return map;
}

async function scanDev(devDir: string): Promise<SerialPortInfo[]> {
  let names: string[];
  try {
    names = await readdir(devDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => DEV_NAMES.test(n))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((n) => ({ path: join(devDir, n) }));
}

export async function listPorts(list: () => Promise<RawPortInfo[]>, devDir: string): Promise<SerialPortList> {
  const links = await byIdLinks(devDir);
  let ports: SerialPortInfo[];
  let warning: string | undefined;
  try {
    ports = (await list()).map((p) => {
      const info: SerialPortInfo = { path: p.path };
      if (p.manufacturer) info.manufacturer = p.manufacturer;
      if (p.serialNumber) info.serialNumber = p.serialNumber;
      if (p.vendorId) info.vendorId = p.vendorId;
      if (p.productId) info.productId = p.productId;
      return info;
    });
  } catch (err) {
    warning = `full port listing failed (${describeError(err)}); showing device nodes found under ${devDir} instead — install udev (udevadm) for vendor and serial numbers`;
    ports = await scanDev(devDir);
  }
  for (const p of ports) {
    const ids = links.get(p.path);
    if (ids) p.byId = ids;
  }
  return warning ? { ports, warning } : { ports };
}

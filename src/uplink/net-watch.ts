/**
 * Notices when the host's network changes (an interface or an address comes or goes:
 * the modem re-attached, Wi-Fi joined, a VPN came up). The uplink polls it every few
 * seconds while offline and then probes the broker at once instead of waiting out
 * the probe window. Cheap: one getifaddrs() per poll, no netlink socket.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export type InterfacesReader = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

/** The external interfaces and their addresses, as one comparable string. */
export function interfacesSignature(read: InterfacesReader = networkInterfaces): string {
  let all: NodeJS.Dict<NetworkInterfaceInfo[]>;
  try {
    all = read();
  } catch {
    return '';
  }
  return Object.entries(all)
    .flatMap(([name, infos]) => (infos ?? []).filter((i) => !i.internal).map((i) => `${name} ${i.address}`))
    .sort()
    .join(',');
}

export class NetWatch {
  private last: string;

  constructor(private readonly read: InterfacesReader = networkInterfaces) {
    this.last = interfacesSignature(read);
  }

  /** True once per change since the previous call. */
  changed(): boolean {
    const now = interfacesSignature(this.read);
    if (now === this.last) return false;
    this.last = now;
    return true;
  }
}

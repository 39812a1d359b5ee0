/**
 * Questions the machine test asks systemd inside the guest, through the agent.
 */
import type { Vm } from './vm.js';

export type ServiceState = Record<'ActiveState' | 'SubState' | 'MainPID' | 'NRestarts' | 'StatusText' | 'Type' | 'Result', string>;

const PROPS = ['ActiveState', 'SubState', 'MainPID', 'NRestarts', 'StatusText', 'Type', 'Result'];

export async function serviceState(vm: Vm, unit = 'citygate.service'): Promise<ServiceState> {
  const out = await vm.run(`systemctl show ${unit} -p ${PROPS.join(',')}`);
  const st: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) st[line.slice(0, i)] = line.slice(i + 1);
  }
  return st as ServiceState;
}

/** Polls the unit's state every second until `cond` holds (bounded by `timeoutMs`). */
export async function waitForService(vm: Vm, cond: (s: ServiceState) => boolean, timeoutMs: number, unit = 'citygate.service'): Promise<ServiceState> {
  const until = Date.now() + timeoutMs;
  let last: ServiceState | undefined;
  while (Date.now() < until) {
    last = await serviceState(vm, unit).catch(() => last);
    if (last && cond(last)) return last;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${unit} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

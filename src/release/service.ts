/**
 * How `citygate update` restarts the gateway and asks whether it is still running.
 * On a gateway that is systemd (the citygate unit); tests supply their own.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServiceControl {
  /** Restarts the service on whatever `current` points at now; resolves once asked. */
  restart(): Promise<void>;
  /** Whether the service is running (not failed, not restarting in a loop). */
  isActive(): Promise<boolean>;
}

export function systemdService(unit = 'citygate.service'): ServiceControl {
  return {
    async restart() {
      // --no-block: readiness is judged by the health gate, not by systemctl's wait.
      await run('systemctl', ['restart', '--no-block', unit]);
    },
    async isActive() {
      try {
        const { stdout } = await run('systemctl', ['show', '--property=ActiveState,SubState', unit]);
        return /ActiveState=active/.test(stdout) && /SubState=running/.test(stdout);
      } catch {
        return false;
      }
    },
  };
}

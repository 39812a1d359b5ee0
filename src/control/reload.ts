/**
 * Changing a running gateway's config, from the `config` command (a whole YAML) or
 * from its file (SIGHUP, `systemctl reload`, the `reload_config` command):
 *  0. judge it by the rights of the config in force (src/control/remote-policy.ts): a
 *     `config` command always, a file reload when the gateway's user could have written
 *     the file; a change outside `commands.config.remote_may_change` refuses it whole;
 *  1. validate it exactly as `citygate validate` does (every problem as file:line:col),
 *     `!secret` read from secrets.yaml beside the config file, whatever the working
 *     directory;
 *  2. refuse changes that need a restart (gateway, uplink, buffer, status server);
 *  3. for a command: write it atomically over the file, the previous one kept as
 *     `<file>.last-good`;
 *  4. apply it: only added, removed and changed devices are stopped or started; the
 *     buffer stays open and the uplink connected;
 *  5. watch for `graceMs`: if a device that was added or changed is down, or the uplink
 *     is no longer online when it was before, put the last good config back (file and
 *     running devices) and say so in `events` and the log.
 * One reload at a time; a second one while another is in its grace period is refused.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import { checkConfigText } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import type { GatewayConfig } from '../config/schema.js';
import type { EventBody } from '../uplink/topics.js';
import { diffConfig, isEmpty, type ConfigDiff } from './diff.js';
import { replaceConfig, writeFileAtomically } from './config-file.js';
import { remoteChangeRefusals } from './remote-policy.js';

/** What the reloader needs of the gateway. */
export interface ReloadTarget {
  readonly config: GatewayConfig;
  /** Stop removed and changed devices, start added and changed ones, swap in-place settings. */
  applyConfig(next: GatewayConfig, diff: ConfigDiff): Promise<void>;
  deviceState(id: string): string | undefined;
  uplinkOnline(): boolean;
  readonly events: { emit(e: EventBody): void };
}

export interface ReloadOptions {
  file: string;
  target: ReloadTarget;
  log: Logger;
  clock: Clock;
  /** How long a new config must stay healthy (default 60 s). */
  graceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export type ReloadResult =
  | { ok: true; applied: Omit<ConfigDiff, 'unchanged'> & { unchanged: number }; grace_s: number }
  | { ok: true; unchanged: true }
  | { ok: false; error: string; errors?: string[] };

export class ConfigReloader {
  private goodText: string;
  private busy = false;
  private cancelGrace: (() => void) | undefined;

  /** The config file's absolute path: the working directory may be anything (systemd: /). */
  private readonly file: string;

  constructor(private readonly o: ReloadOptions) {
    this.file = resolve(o.file);
    this.goodText = readFileSync(this.file, 'utf8');
  }

  /**
   * A file the gateway's own user may write (or replace, through its directory) could have
   * been written by a remote `config`: its reloads are judged like one.
   */
  private fileWritableByGateway(): boolean {
    for (const p of [this.file, dirname(this.file)]) {
      try {
        accessSync(p, constants.W_OK);
        return true;
      } catch {
        // not writable: try the next
      }
    }
    return false;
  }

  /** A whole YAML from the downlink: validated, written, applied, watched. */
  applyText(text: string): Promise<ReloadResult> {
    return this.run(text, 'command');
  }

  /** The file as it is now on disk (SIGHUP, reload_config). */
  reloadFromFile(): Promise<ReloadResult> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'it does not exist (moved or deleted?)' : code === 'EACCES' ? "permission denied: the citygate user must be able to read it" : describeError(err);
      return Promise.resolve({ ok: false, error: `cannot read ${this.file}: ${why}; the gateway keeps running with its current config` });
    }
    return this.run(text, 'file');
  }

  private async run(text: string, origin: 'command' | 'file'): Promise<ReloadResult> {
    if (this.busy || this.cancelGrace) return { ok: false, error: 'another config change is being applied or watched; try again after its grace period' };
    this.busy = true;
    try {
      if (origin === 'command' || this.fileWritableByGateway()) {
        // A config that did not pass the schema has no policy: nothing may change remotely.
        const policy = this.o.target.config.commands.config?.remote_may_change ?? [];
        const refusals = remoteChangeRefusals(this.goodText, text, policy);
        if (refusals.length > 0) {
          const where = origin === 'file' ? `in ${this.file} (writable by the gateway's user, so judged as a remote config)` : 'from the downlink';
          this.o.log.warn({ origin, refusals }, `config ${where} refused: ${refusals.length} change(s) a remote config may not make`);
          const error = refusals.length === 1 ? `${refusals[0]}; nothing changed` : `refused: ${refusals.length} changes a remote config may not make (commands.config.remote_may_change); nothing changed`;
          return { ok: false, error, errors: refusals };
        }
      }
      const checked = checkConfigText(text, basename(this.file), { env: this.o.env ?? process.env, missingEnv: 'error', path: this.file });
      if (!checked.config) {
        const errors = checked.issues.map(formatIssue);
        this.o.log.warn({ origin, errors }, `config ${origin === 'file' ? `in ${this.file}` : 'from the downlink'} refused: ${errors.length} problem(s)`);
        return { ok: false, error: `config invalid: ${errors.length} problem(s), nothing changed`, errors };
      }
      const cur = this.o.target.config;
      const next = checked.config;
      const diff = diffConfig(cur, next);
      if (diff.needsRestart.length > 0) {
        return { ok: false, error: `${diff.needsRestart.join(', ')} changed: that needs a restart (systemctl restart citygate); nothing changed` };
      }
      if (isEmpty(diff)) return { ok: true, unchanged: true };
      const previous = this.goodText;
      if (origin === 'command') {
        try {
          replaceConfig(this.file, text, previous);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? describeError(err);
          return { ok: false, error: `cannot write ${this.file} (${code}): the config command needs the file's directory writable by the service — nothing changed` };
        }
      }
      const uplinkWasOnline = this.o.target.uplinkOnline();
      await this.o.target.applyConfig(next, diff);
      const { unchanged, ...rest } = diff;
      const graceMs = this.o.graceMs ?? 60_000;
      this.o.target.events.emit({ type: 'config_applied', origin, added: diff.added, removed: diff.removed, changed: diff.changed, in_place: diff.inPlace });
      this.o.log.info({ origin, ...rest, unchanged: unchanged.length }, `config applied; watching it for ${graceMs / 1000}s`);
      this.watch(cur, next, diff, previous, text, uplinkWasOnline, graceMs);
      return { ok: true, applied: { ...rest, unchanged: unchanged.length }, grace_s: Math.round(graceMs / 1000) };
    } finally {
      this.busy = false;
    }
  }

  private watch(prev: GatewayConfig, next: GatewayConfig, diff: ConfigDiff, prevText: string, nextText: string, uplinkWasOnline: boolean, graceMs: number): void {
    this.cancelGrace = this.o.clock.setTimer(graceMs, () => {
      this.cancelGrace = undefined;
      const why: string[] = [];
      for (const id of [...diff.added, ...diff.changed]) {
        const s = this.o.target.deviceState(id);
        if (s === 'down') why.push(`device ${id} is down`);
      }
      if (uplinkWasOnline && !this.o.target.uplinkOnline()) why.push('the uplink went offline');
      if (why.length === 0) {
        this.goodText = nextText;
        this.o.log.info('config change kept: healthy through its grace period');
        return;
      }
      void this.rollback(prev, next, prevText, why.join('; '));
    });
  }

  private async rollback(prev: GatewayConfig, cur: GatewayConfig, prevText: string, reason: string): Promise<void> {
    this.busy = true;
    try {
      this.o.log.error({ reason }, `config change rolled back: ${reason}`);
      writeFileAtomically(this.file, prevText);
      await this.o.target.applyConfig(prev, diffConfig(cur, prev));
      this.o.target.events.emit({ type: 'config_rolled_back', reason });
    } catch (err) {
      this.o.log.error(`config rollback failed: ${describeError(err)} — restart the gateway (the file holds the last good config)`);
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    this.cancelGrace?.();
    this.cancelGrace = undefined;
  }
}

/**
 * The largest config file citygate parses. The biggest example board is 7 KiB; a
 * gateway with hundreds of Modbus points stays far below 100 KiB. A file above the
 * limit is refused before it is read (the CLI runs in a 96 MiB heap: a 60 MB file
 * would end in "heap out of memory" while parsing), with one line saying why.
 */
import { statSync } from 'node:fs';

export const MAX_CONFIG_BYTES = 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function tooLargeMessage(bytes: number): string {
  return `is ${mib(bytes)}, more than the ${mib(MAX_CONFIG_BYTES)} a gateway config may be — is it the right file (a log, a database, a capture)? Split off what is not config`;
}

/** The problem with `file`'s size, or undefined when it may be read (unreadable files are the reader's to report). */
export function configFileTooLarge(file: string): string | undefined {
  try {
    const st = statSync(file);
    return st.isFile() && st.size > MAX_CONFIG_BYTES ? tooLargeMessage(st.size) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Open failures, rewritten for a technician on a ladder: what failed, on which port, and
 * what to try. The OS error code is kept on the error so callers can branch on it.
 */
import { describeError } from '../../core/errors.js';

export class SerialOpenError extends Error {
  override name = 'SerialOpenError';
  constructor(
    message: string,
    readonly path: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function explainOpenError(path: string, err: unknown): SerialOpenError {
  const raw = describeError(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? /\b(ENOENT|EACCES|EBUSY|ENXIO|EIO)\b/.exec(raw)?.[1];
  let hint: string;
  if (code === 'ENOENT' || /no such file|does not exist/i.test(raw)) {
    hint = 'the port does not exist: is the adapter plugged in? `citygate probe serial --list` shows the ports present';
  } else if (code === 'EACCES' || /permission denied/i.test(raw)) {
    hint = "permission denied: add the service user to the 'dialout' group (sudo usermod -aG dialout citygate) and restart";
  } else if (code === 'EBUSY' || /cannot lock port|resource temporarily unavailable/i.test(raw)) {
    hint = `the port is in use by another process (a getty on the console UART? ModemManager?): 'fuser -v ${path}' shows who`;
  } else {
    hint = raw;
  }
  return new SerialOpenError(`cannot open serial port ${path}: ${hint}${hint === raw ? '' : ` (${raw})`}`, path, code);
}

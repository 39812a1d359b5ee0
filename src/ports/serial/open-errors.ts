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
  const given = (err as NodeJS.ErrnoException | undefined)?.code ?? /\b(ENOENT|EACCES|EBUSY|ENXIO|EIO)\b/.exec(raw)?.[1];
  // serialport does not always carry the errno (its mock binding never does): derive it
  // from the message, so callers can branch on `code` whatever the binding.
  let code = given;
  let hint: string;
  if (given === 'ENOENT' || /no such file|does not exist/i.test(raw)) {
    code ??= 'ENOENT';
    hint = 'the port does not exist: is the adapter plugged in? `citygate probe serial --list` shows the ports present';
  } else if (given === 'EACCES' || /permission denied/i.test(raw)) {
    code ??= 'EACCES';
    hint = "permission denied: add the service user to the 'dialout' group (sudo usermod -aG dialout citygate) and restart";
  } else if (given === 'EBUSY' || /cannot lock port|resource temporarily unavailable/i.test(raw)) {
    code ??= 'EBUSY';
    hint = `the port is in use by another process (a getty on the console UART? ModemManager?): 'fuser -v ${path}' shows who`;
  } else {
    hint = raw;
  }
  return new SerialOpenError(`cannot open serial port ${path}: ${hint}${hint === raw ? '' : ` (${raw})`}`, path, code);
}

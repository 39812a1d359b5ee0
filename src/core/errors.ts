/**
 * Errors meant for people. A UserError is a mistake the user can fix (bad config,
 * bad arguments): the CLI prints its message and exits 1, without a stack trace.
 * Anything else is a runtime failure (exit 2).
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    /** Extra lines printed after the message (e.g. one per config error). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** A short, secret-free description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

/** Whether `err` is the kernel refusing this user a file (not a missing or broken one). */
export function isPermissionDenied(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/** The gateway's data files belong to the citygate user: what a tool run by someone else says. */
export function dataPermissionError(file: string): UserError {
  return new UserError(`cannot open ${file}: permission denied — run this as the citygate user (sudo -u citygate …) or as root`);
}

/**
 * The mark that says a config field may take `${ENV}` or `!secret`: zod metadata
 * `substitution: 'credential' | 'address'`, set where a field is declared (in core, so
 * drivers can mark their own hosts and ports). src/config/secret-fields.ts reads it.
 */
import type { z } from 'zod';

export type SubstitutionKind = 'credential' | 'address';

/** A credential (password, token, user name, TLS file): `${ENV}` / `!secret` resolve here; never changed remotely. */
export function credential<T extends z.ZodType>(schema: T): T {
  return schema.meta({ substitution: 'credential' }) as T;
}

/** An address (URL, host, port, device path, the gateway's id and directory): `${ENV}` / `!secret` resolve here. */
export function address<T extends z.ZodType>(schema: T): T {
  return schema.meta({ substitution: 'address' }) as T;
}

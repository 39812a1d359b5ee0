/**
 * Who may read the status page. On loopback nobody needs to log in; bound to any other
 * address the page (and /health, /metrics, /live) needs `health.auth`: a bearer token
 * (`Authorization: Bearer …`, or `?token=…` for a phone bookmark) or HTTP basic auth.
 * Without one the server refuses to listen beyond loopback. Secrets are compared in
 * constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';

export const httpAuthSchema = z
  .strictObject({
    token: z.string().min(16, { error: 'a status page token needs at least 16 characters' }).optional().meta({
      description: 'Bearer token for the status page (Authorization: Bearer …, or ?token=…). Use ${ENV} or !secret.',
    }),
    username: z.string().min(1).optional().meta({ description: 'HTTP basic auth user for the status page.' }),
    password: z.string().min(8).optional().meta({ description: 'HTTP basic auth password (use ${ENV} or !secret).' }),
  })
  .refine((a) => Boolean(a.username) === Boolean(a.password), { message: 'username and password go together' })
  .refine((a) => a.token !== undefined || a.username !== undefined, { message: 'give a token, or a username and password' })
  .meta({ description: 'Login for the status page; required when health.http is not a loopback address.' });

export type HttpAuth = z.output<typeof httpAuthSchema>;

export function isLoopbackListen(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const same = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

/** Whether the request offers any credentials at all (a header or ?token=): only those count as guesses. */
export function presentsCredentials(req: IncomingMessage): boolean {
  return Boolean(req.headers.authorization) || new URL(req.url ?? '/', 'http://x').searchParams.has('token');
}

/** True when the request carries the configured credentials (always true without auth). */
export function authorized(req: IncomingMessage, auth: HttpAuth | undefined): boolean {
  if (!auth) return true;
  const header = req.headers.authorization ?? '';
  if (auth.token !== undefined) {
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1];
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    if ((bearer !== undefined && same(bearer, auth.token)) || (query !== null && same(query, auth.token))) return true;
  }
  if (auth.username !== undefined && auth.password !== undefined) {
    const basic = /^Basic\s+(.+)$/i.exec(header)?.[1];
    if (basic !== undefined) {
      const text = Buffer.from(basic, 'base64').toString('utf8');
      const i = text.indexOf(':');
      // Both compared, always, so timing says nothing about which one was wrong.
      const userOk = same(text.slice(0, Math.max(0, i)), auth.username);
      const passOk = same(text.slice(i + 1), auth.password);
      if (i >= 0 && userOk && passOk) return true;
    }
  }
  return false;
}

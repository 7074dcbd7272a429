// Credentials on the public port: API keys for module routes (API_KEYS), the deployment's token for /rpc (RPC_TOKEN).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { errors } from '../errors.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * A set of secrets compared in constant time: both sides are hashed first, so neither the length nor
 * a common prefix of a guess shows in the timing, and every secret is compared (no early exit).
 */
export function secretMatcher(secrets: string[]): (given: string | undefined) => boolean {
  const hashes = secrets.map(digest);
  return (given) => {
    if (given === undefined || given === '') return false;
    const g = digest(given);
    let ok = false;
    for (const h of hashes) ok = timingSafeEqual(g, h) || ok;
    return ok;
  };
}

/** `Authorization: Bearer <x>` → x. */
export function bearer(ctx: Context): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(ctx.get('authorization'));
  return m ? m[1] : undefined;
}

export const RPC_PATH = /^\/rpc\//i;

/** Set on the request by kernel/server.ts when it came in on the internal listener (RPC_PORT). */
export const INTERNAL_LISTENER = Symbol('cantons.internalListener');

export const onInternalListener = (ctx: Context) => (ctx.req as { [INTERNAL_LISTENER]?: boolean })[INTERNAL_LISTENER] === true;

/** Throws 401 unless the request carries one of the API keys (`Authorization: Bearer` or `X-API-Key`). */
export function apiKeyCheck(apiKeys: string[]): (ctx: Context) => void {
  const matches = secretMatcher(apiKeys);
  return (ctx) => {
    if (matches(bearer(ctx) ?? (ctx.get('x-api-key') || undefined))) return;
    ctx.set('www-authenticate', 'Bearer realm="cantons"');
    throw errors.UNAUTHORIZED('This API needs a key: send Authorization: Bearer <key> or X-API-Key: <key>');
  };
}

/** Throws 401 unless the request carries `Authorization: Bearer <RPC_TOKEN>`. */
export function rpcTokenCheck(token: string): (ctx: Context) => void {
  const matches = secretMatcher([token]);
  return (ctx) => {
    if (matches(bearer(ctx))) return;
    ctx.set('www-authenticate', 'Bearer realm="cantons-rpc"');
    throw errors.UNAUTHORIZED("Internal calls need the deployment's RPC token");
  };
}

/**
 * Wraps an /rpc route: without the right `Authorization: Bearer <RPC_TOKEN>` it answers 401 (no token: open,
 * loopback only, see bootstrap); with `internalOnly` (RPC_PORT set) it does not exist on the public listener.
 * The app checks the token before routing too (kernel/http/app.ts); this holds for any spelling the router matches.
 */
export function rpcGuard<M extends (ctx: Context, next: Next) => unknown>(token: string | undefined, route: M, internalOnly = false): M {
  if (!token && !internalOnly) return route;
  const check = token ? rpcTokenCheck(token) : () => {};
  return ((ctx: Context, next: Next) => {
    if (internalOnly && !onInternalListener(ctx)) throw errors.NOT_FOUND(`No route for ${ctx.method} ${ctx.path}`);
    check(ctx);
    return route(ctx, next);
  }) as M;
}

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

/** `Authorization: Bearer <x>` → x; `X-API-Key: <x>` → x (API keys only). */
export function bearer(ctx: Context): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(ctx.get('authorization'));
  return m ? m[1] : undefined;
}

/** Comma-separated list from the environment (API_KEYS, CORS_ORIGINS, ALLOWED_HOSTS): trimmed, empties dropped. */
export const listSetting = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export interface Credentials {
  /** API keys any module route requires; none: module routes are open. */
  apiKeys?: string[];
  /** The token every /rpc call must carry; unset: /rpc is open (only allowed on a loopback HOST, see bootstrap). */
  rpcToken?: string;
}

/** Middleware: /rpc/* needs RPC_TOKEN, every other path it sees needs one of API_KEYS (when they are set). */
export function requireCredentials({ apiKeys = [], rpcToken }: Credentials) {
  const apiKey = apiKeys.length ? secretMatcher(apiKeys) : undefined;
  const rpc = rpcToken ? secretMatcher([rpcToken]) : undefined;
  return (ctx: Context, next: Next) => {
    if (ctx.path.startsWith('/rpc/')) {
      if (rpc && !rpc(bearer(ctx))) {
        ctx.set('www-authenticate', 'Bearer realm="cantons-rpc"');
        throw errors.UNAUTHORIZED('Internal calls need the deployment\'s RPC token');
      }
      return next();
    }
    if (apiKey && !apiKey(bearer(ctx) ?? (ctx.get('x-api-key') || undefined))) {
      ctx.set('www-authenticate', 'Bearer realm="cantons"');
      throw errors.UNAUTHORIZED('This API needs a key: send Authorization: Bearer <key> or X-API-Key: <key>');
    }
    return next();
  };
}

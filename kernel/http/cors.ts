// CORS for the origins listed in CORS_ORIGINS only; any other origin gets no CORS header, so browsers keep its pages out.
import type { Context, Next } from 'koa';

const ALLOW_HEADERS = 'authorization, content-type, x-api-key, x-request-id, x-trace-id';
const EXPOSE_HEADERS = 'x-request-id, x-cache-stale, x-cache-revision, retry-after, location';

/** Origins compare as the browser sends them (`https://app.example.com`, no path), case-insensitively. */
export function cors(origins: string[]) {
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  return (ctx: Context, next: Next) => {
    const origin = ctx.get('origin');
    if (!origin) return next();
    ctx.vary('origin');
    if (!allowed.has(origin.toLowerCase())) return next();
    ctx.set('access-control-allow-origin', origin);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.set('access-control-allow-methods', 'GET, HEAD, POST, PUT, PATCH, DELETE');
      ctx.set('access-control-allow-headers', ALLOW_HEADERS);
      ctx.set('access-control-max-age', '600');
      ctx.status = 204;
      return;
    }
    ctx.set('access-control-expose-headers', EXPOSE_HEADERS);
    return next();
  };
}

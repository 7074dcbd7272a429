// Refuses writes from a browser page on another origin by what the browser declares, not by the body's type:
// the approach of Go 1.25's net/http.CrossOriginProtection and OWASP's "verifying origin with standard headers".
import type { Context } from 'koa';
import { errors } from '../errors.ts';

// Browsers send these without asking (no preflight) from any page, but a page cannot read or change anything with them.
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `Sec-Fetch-Site` when the browser sent it: `same-origin` and `none` (typed in, a bookmark) pass, anything else
 * (`cross-site`, and `same-site`, another origin all the same: a sibling subdomain, http beside https) is refused
 * unless its `Origin` is one of `trusted` (CORS_ORIGINS). Without it (browsers before 2023), `Origin` must name
 * the request's own host, or a trusted origin. With neither header the request is not from a browser page — curl,
 * scripts, other servers — and passes: those are what clients without a browser send.
 */
export function crossOriginCheck(trusted: string[] = []) {
  const origins = new Set(trusted.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  const isTrusted = (origin: string | undefined) => origin !== undefined && origins.has(origin.toLowerCase());
  return (ctx: Context): void => {
    if (SAFE.has(ctx.method)) return;
    const { 'sec-fetch-site': site, origin, host } = ctx.req.headers;
    if (site === 'same-origin' || site === 'none') return;
    if (site === undefined && (origin === undefined || sameHost(origin, host))) return;
    if (isTrusted(origin)) return;
    throw errors.CROSS_ORIGIN_REQUEST(
      site
        ? `Refused: a page on another site (Sec-Fetch-Site: ${site.slice(0, 20)}) may not ${ctx.method} here; list its origin in CORS_ORIGINS to allow it`
        : `Refused: a page on another origin may not ${ctx.method} here; list its origin in CORS_ORIGINS to allow it`,
    );
  };
}

/** `Origin: http://api.example.com:8080` against `Host: API.example.com:8080`; `null` and junk name no host. */
function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

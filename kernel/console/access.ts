// Who may open /console, and how a browser proves it: served on a loopback HOST or with CONSOLE_TOKEN; the token (and an
// API key, with API_KEYS) asked once by a form and kept as a derived value in an HttpOnly, SameSite=Strict cookie.
import { createHmac } from 'node:crypto';
import type { Context } from 'koa';
import { errors } from '../errors.ts';
import { bearer, secretMatcher } from '../http/auth.ts';
import { crossOriginCheck } from '../http/cross-origin.ts';
import { isLoopback } from '../transport/http.ts';

export const COOKIE = 'cantons_console';

export interface AccessOptions {
  host: string;
  token?: string;
  apiKeys: string[];
}

export interface ConsoleAccess {
  /** /console exists on this process: a loopback HOST, or CONSOLE_TOKEN set. */
  readonly enabled: boolean;
  /** What the login form asks for. */
  readonly asks: { token: boolean; key: boolean };
  /** Who the request is (for the log of actions), or undefined when it must log in first. */
  who(ctx: Context): string | undefined;
  /** The cookie value for these credentials, or undefined when they are wrong. */
  login(given: { token?: string; key?: string }): string | undefined;
  /** Every console POST: refused (403) from a page of any other origin, CORS_ORIGINS or not. */
  checkWrite(ctx: Context): void;
}

// The cookie holds a MAC of the credentials, not the credentials: it opens the console and nothing else (not the API,
// not /rpc), it is never the token, and it stops working when the token or the key it was made with is changed.
const session = (token: string, key: string) => createHmac('sha256', token).update(`cantons-console\0${key}`).digest('base64url');

/** `a=1; cantons_console=…` → the cookie's value. */
function cookie(ctx: Context, name: string): string | undefined {
  for (const part of (ctx.req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** `Host: localhost:8080`, `127.0.0.1`, `[::1]:80` → a loopback name; anything else (a rebinding attacker's name) is not. */
const loopbackHost = (host: string | undefined) => isLoopback((host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'));

export function consoleAccess(opts: AccessOptions): ConsoleAccess {
  const asks = { token: Boolean(opts.token), key: opts.apiKeys.length > 0 };
  const keys = asks.key ? opts.apiKeys : [''];
  const sessions = keys.map((k) => session(opts.token ?? '', k));
  const matchesSession = secretMatcher(sessions);
  const matchesToken = secretMatcher(opts.token ? [opts.token] : []);
  const matchesKey = secretMatcher(opts.apiKeys);
  const sameOrigin = crossOriginCheck([]);
  const open = !asks.token && !asks.key;

  return {
    enabled: Boolean(opts.token) || isLoopback(opts.host),
    asks,
    who(ctx) {
      const from = ctx.req.socket.remoteAddress ?? 'unknown address';
      if (open) {
        // No credential at all (a loopback HOST): only a page this machine named by a loopback name may use it, so a
        // site whose name an attacker points at 127.0.0.1 (DNS rebinding) finds nothing here.
        if (!loopbackHost(ctx.req.headers.host))
          throw errors.MISDIRECTED_REQUEST('Without CONSOLE_TOKEN the console answers loopback host names only (localhost, 127.0.0.1, [::1])');
        return `loopback (${from})`;
      }
      const value = cookie(ctx, COOKIE);
      if (value && matchesSession(value)) {
        const i = sessions.indexOf(value);
        return `${asks.token ? 'CONSOLE_TOKEN' : ''}${asks.token && asks.key ? ' + ' : ''}${asks.key ? `API key #${i + 1}` : ''} (${from})`;
      }
      // A script with an API key and no token to give: the key alone, as on every other path.
      if (!asks.token && matchesKey(bearer(ctx) ?? (ctx.get('x-api-key') || undefined))) return `API key header (${from})`;
      return undefined;
    },
    login(given) {
      if (asks.token && !matchesToken(given.token)) return undefined;
      if (asks.key && !matchesKey(given.key)) return undefined;
      return session(opts.token ?? '', asks.key ? (given.key as string) : '');
    },
    checkWrite(ctx) {
      sameOrigin(ctx);
    },
  };
}

/** Set-Cookie for a session (or, with an empty value, its removal): the console's paths only, no script may read it. */
export function sessionCookie(ctx: Context, value: string): void {
  const secure = ctx.protocol === 'https' ? '; Secure' : '';
  const life = value ? '' : '; Max-Age=0';
  ctx.set('set-cookie', `${COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict${secure}${life}`);
}

/** A small urlencoded form body (the console's forms), at most 4 KB. */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  const limit = 4096;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw errors.PAYLOAD_TOO_LARGE(`A console form is at most ${limit} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// API_KEYS and the module's calls to itself: which key the target client and the built-in target's callbacks send.
// With API_KEYS set, the built-in target (mounted on this port) and the callback route need a key like any module
// route. This process's own key goes only to this process: never to a target someone named in a start body.
import { listOf, type KernelConfig } from '../../kernel/config.ts';
import { listensOn } from './target-policy.ts';

/**
 * Whether `url` (an operator's setting: BENCHMARK_CALLBACK_URL) addresses this process: its port is PORT and its host
 * an address HOST listens on (any loopback or interface address for a wildcard HOST), `localhost` when HOST is a
 * loopback address, or HOST itself. Not a look-alike: with HOST=127.0.0.1, 127.0.0.2 at PORT is another process.
 * A proxy or a DNS name in front of the process is not recognised: set BENCHMARK_CALLBACK_API_KEY for those.
 */
export function isThisProcess(url: string, kernel: Pick<KernelConfig, 'HOST' | 'PORT'>): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  if (port !== kernel.PORT || kernel.PORT === 0) return false;
  const host = u.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === kernel.HOST.toLowerCase()) return true;
  const own = listensOn(kernel.HOST);
  return host === 'localhost' ? own('127.0.0.1') || own('::1') : own(host);
}

/** The key this process accepts that it sends to itself: the first of API_KEYS (undefined when none are set). */
export const ownApiKey = (kernel: Pick<KernelConfig, 'API_KEYS'>): string | undefined => listOf(kernel.API_KEYS)[0];

/** The key a request carried (`Authorization: Bearer <key>` or `X-API-Key`), as the kernel reads it. */
export function carriedApiKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth) : null;
  if (m) return m[1];
  const key = headers['x-api-key'];
  return typeof key === 'string' && key ? key : undefined;
}

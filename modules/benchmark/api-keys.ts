// API_KEYS and the module's calls to itself: which key the target client and the built-in target's callbacks send.
// With API_KEYS set, the built-in target (mounted on this port) and the callback route need a key like any module
// route. This process's own key goes only to this process: never to a target someone named in a start body.
import { networkInterfaces } from 'node:os';
import { listOf, type KernelConfig } from '../../kernel/config.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/i;
const ANY = new Set(['0.0.0.0', '::', '[::]']);

/** This machine's interface addresses, once (for HOST=0.0.0.0: a URL naming any of them at PORT is this process). */
let interfaces: Set<string> | undefined;
const localAddresses = () => (interfaces ??= new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address.toLowerCase()))));

/**
 * Whether `url` addresses this process: its port is PORT and its host a loopback name, HOST itself, or (HOST
 * listening on every interface) one of this machine's addresses. A proxy or a DNS name in front of the process
 * is not recognised: set BENCHMARK_TARGET_API_KEY / BENCHMARK_CALLBACK_API_KEY for those.
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
  const own = kernel.HOST.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return LOOPBACK.test(host) || host === own || (ANY.has(own) && localAddresses().has(host));
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

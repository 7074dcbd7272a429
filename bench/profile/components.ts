// Sorts a profile's CPU into the components of a request (socket and HTTP parse, Koa, router, metrics …).
import type { Frame, Stack } from './cpuprofile.ts';
import { shortUrl } from './cpuprofile.ts';

export const COMPONENTS = [
  'socket + HTTP parse',
  'Koa context (createContext, ctx getters, compose)',
  'router',
  'request id',
  'kernel middleware (host check, error handler, route adapter)',
  'validation (zod, text check)',
  'body read (stream, JSON.parse)',
  'metrics',
  'logging',
  'response (headers, serialisation, write)',
  'module handler',
  'SQLite per event (statements, transaction, group commit)',
  'GC',
  'native / unattributed ((program))',
  'other JS',
] as const;
export type Component = (typeof COMPONENTS)[number];

const [SOCKET, KOA, ROUTER, REQID, KERNEL, VALIDATION, BODY, METRICS, LOGGING, RESPONSE, HANDLER, SQLITE, GC, NATIVE, OTHER] = COMPONENTS;

/**
 * A frame's component, or undefined when it only carries others (event emitters, streams, microtask queues).
 * Library and project frames decide; node's own frames decide only when no library frame sits inside them.
 */
function componentOf(f: Frame): { c: Component; strong: boolean } | undefined {
  const u = shortUrl(f.url);
  const n = f.name;
  if (n === '(garbage collector)') return { c: GC, strong: true };
  if (n === '(program)') return { c: NATIVE, strong: true };
  if (/^(prom-client|kernel\/http\/metrics)/.test(u)) return { c: METRICS, strong: true };
  if (/^(@koa\/router|path-to-regexp|kernel\/http\/matcher)/.test(u)) return { c: ROUTER, strong: true };
  if (/^(zod|kernel\/http\/text)/.test(u) || (u.startsWith('kernel/http/route') && n === 'validate')) return { c: VALIDATION, strong: true };
  if (/^(pino|sonic-boom|thread-stream|kernel\/logger)/.test(u) || n === 'requestLog') return { c: LOGGING, strong: true };
  if (u.startsWith('kernel/http/body') || (n === 'parse' && !u)) return { c: BODY, strong: true };
  if (/^(better-sqlite3|kysely|db\/|modules\/events\/store)/.test(u)) return { c: SQLITE, strong: true };
  if (u.startsWith('kernel/http/request-id') || n === 'requestId' || n === 'randomUUID' || u.includes('internal/crypto/random'))
    return { c: REQID, strong: true };
  if (u.startsWith('koa/lib/application') && n === 'respond') return { c: RESPONSE, strong: true };
  if (n === 'stringify' && !u) return { c: RESPONSE, strong: true };
  if (
    /^(koa\/|koa-compose|delegates|on-finished|ee-first|statuses|content-type|mime-types|type-is|cache-content-type|vary|encodeurl|escape-html|destroy|http-errors|only|fresh|accepts|negotiator|parseurl|qs|querystring)/.test(
      u,
    )
  )
    return { c: KOA, strong: true };
  if (u.startsWith('kernel/http/') || u.startsWith('kernel/errors')) return { c: KERNEL, strong: true };
  // A bare baseline's own code is its handler, so its statements count where a module's do.
  if (u.startsWith('modules/') || u.startsWith('bench/baselines/')) return { c: HANDLER, strong: true };
  if (/^node:(_http_outgoing|internal\/http)/.test(u) || (u === 'node:_http_server' && /writeHead|_implicitHeader|ServerResponse/.test(n)))
    return { c: RESPONSE, strong: false };
  if (/^node:(net|_http_server|_http_common|_http_incoming|internal\/stream_base_commons|internal\/timers|internal\/streams\/writable|stream)/.test(u))
    return { c: SOCKET, strong: false };
  if (n === 'writev' || n === 'writeUtf8String' || n === 'writeLatin1String' || n === 'writeBuffer') return { c: RESPONSE, strong: false };
  return undefined;
}

/** Each stack goes to its innermost deciding frame: a library or project frame, else a node frame, else "other". */
export function componentOfStack(frames: Frame[]): Component {
  let weak: Component | undefined;
  for (let i = frames.length - 1; i >= 0; i--) {
    const got = componentOf(frames[i]);
    if (!got) continue;
    if (got.strong) return got.c;
    weak ??= got.c;
  }
  return weak ?? OTHER;
}

/** Microseconds per component over the whole profile. */
export function breakdown(stacks: Stack[]): Map<Component, number> {
  const out = new Map<Component, number>(COMPONENTS.map((c) => [c, 0]));
  for (const s of stacks) {
    const c = componentOfStack(s.frames);
    out.set(c, out.get(c)! + s.us);
  }
  return out;
}

const PALETTE: Record<Component, string> = {
  [SOCKET]: '#9ecae1',
  [KOA]: '#fdae6b',
  [ROUTER]: '#e6550d',
  [REQID]: '#c994c7',
  [KERNEL]: '#fdd0a2',
  [VALIDATION]: '#74c476',
  [BODY]: '#6baed6',
  [METRICS]: '#de2d26',
  [LOGGING]: '#bcbddc',
  [RESPONSE]: '#3182bd',
  [HANDLER]: '#a1d99b',
  [SQLITE]: '#31a354',
  [GC]: '#969696',
  [NATIVE]: '#d9d9d9',
  [OTHER]: '#f0f0f0',
};

/** Flame-graph colour of a frame: its component's, so the picture and the table agree. */
export function colourOf(f: Frame): string {
  const got = componentOf(f);
  return got ? PALETTE[got.c] : '#eeeeee';
}

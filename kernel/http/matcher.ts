// The module routes' fast path: one table per method, built once at mount from @koa/router's own layers,
// so a request is matched by a Map lookup (exact paths) or a few regexps, without the router's per-request chain.
//
// @koa/router tests every route of every method and composes a middleware chain per request; on a small GET
// that was more than the handler. The regexps here are the router's (same case rule, same optional trailing
// slash, same parameter decoding), so a path means the same thing on both; whatever this table does not
// answer — HEAD, OPTIONS, an unknown method, 404 and 405 — still goes to the router, which alone knows those.
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';

interface Layer {
  path: string;
  methods: string[];
  regexp: RegExp;
  paramNames: Array<{ name: string }>;
  params(path: string, captures: string[], existing?: Record<string, string>): Record<string, string>;
  stack: Middleware[];
}

interface Candidate {
  layer: Layer;
  middleware: Middleware;
}

/** A route found: its handler, and what @koa/router would have put on the context. */
export interface Match {
  middleware: Middleware;
  pattern: string;
  params: Record<string, string>;
}

export type Matcher = (method: string, path: string) => Match | undefined;

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** `/products/:id` → `products`; `/:x` or `/*key` → '' (a bucket every path of the method is tested against). */
const firstLiteral = (path: string) => {
  const seg = path.split('/')[1] ?? '';
  return /[:*(){}]/.test(seg) ? '' : seg.toLowerCase();
};
const firstSegment = (path: string) => {
  const end = path.indexOf('/', 1);
  return (end < 0 ? path.slice(1) : path.slice(1, end)).toLowerCase();
};

/**
 * Builds the table from a router whose routes each have one middleware (ours never call `next`), in the
 * router's order: for a method and path, the first layer that matches is the one @koa/router would run.
 */
export function compileMatcher(router: Router): Matcher {
  const layers = (router as unknown as { stack: Layer[] }).stack;
  // Per method: exact paths (only where no earlier pattern of the method also matches them), then per first segment.
  const exact = new Map<string, Map<string, Middleware>>(); // method → path → handler
  const buckets = new Map<string, Map<string, Candidate[]>>();
  for (const [i, layer] of layers.entries()) {
    if (layer.stack.length !== 1) continue;
    for (const method of layer.methods) {
      if (method === 'HEAD') continue; // HEAD is GET without a body: the router's business
      const isPattern = /[:*(){}]/.test(layer.path);
      const shadowed = layers.slice(0, i).some((l) => l.methods.includes(method) && l.regexp.test(layer.path));
      if (!exact.has(method)) exact.set(method, new Map());
      const paths = exact.get(method)!;
      if (!isPattern && !shadowed && !paths.has(layer.path)) paths.set(layer.path, layer.stack[0]);
      let byFirst = buckets.get(method);
      if (!byFirst) buckets.set(method, (byFirst = new Map()));
      const first = firstLiteral(layer.path);
      const list = byFirst.get(first) ?? [];
      list.push({ layer, middleware: layer.stack[0] });
      byFirst.set(first, list);
    }
  }
  // A path's candidates are its first segment's layers and the layers that start with a parameter, in router order.
  const ordered = new Map<string, Map<string, Candidate[]>>();
  const order = new Map(layers.map((l, i) => [l, i]));
  for (const [method, byFirst] of buckets) {
    const wild = byFirst.get('') ?? [];
    const merged = new Map<string, Candidate[]>();
    for (const [first, list] of byFirst) {
      merged.set(first, first === '' ? list : [...list, ...wild].sort((a, b) => order.get(a.layer)! - order.get(b.layer)!));
    }
    ordered.set(method, merged);
  }
  return (method, path) => {
    const hit = exact.get(method)?.get(path);
    if (hit) return { middleware: hit, pattern: path, params: NO_PARAMS };
    const byFirst = ordered.get(method);
    if (!byFirst) return undefined;
    const candidates = byFirst.get(firstSegment(path)) ?? byFirst.get('');
    if (!candidates) return undefined;
    for (const { layer, middleware } of candidates) {
      const m = layer.regexp.exec(path);
      if (m) return { middleware, pattern: layer.path, params: layer.params(path, m.slice(1)) };
    }
    return undefined;
  };
}

/** Puts a match on the context as @koa/router's dispatch does (params, the matched pattern for metrics and logs). */
export function enter(ctx: Context, match: Match): void {
  const c = ctx as Context & { params: Record<string, string>; routerPath: string; _matchedRoute: string; request: { params?: Record<string, string> } };
  c.params = match.params === NO_PARAMS ? {} : match.params;
  c.request.params = c.params;
  c.routerPath = match.pattern;
  c._matchedRoute = match.pattern;
}

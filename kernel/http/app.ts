// The Koa app factory: request ids, one error middleware, health, metrics, OpenAPI, docs, then the module router.
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { Registry } from 'prom-client';
import { errors, toAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { httpMetrics } from './metrics.ts';
import { serveDocs } from './docs.ts';
import type { HttpMethod } from './route.ts';

export interface HttpAppOptions {
  log: Logger;
  metrics: Registry;
  /** Every readiness check by name; /readyz is 200 only when all pass. */
  readiness(): Promise<Record<string, boolean>>;
  openapi(): unknown;
}

/** One module route as the kernel mounts it: the method, the @koa/router path, its handler. */
export interface MountedRoute {
  method: HttpMethod;
  path: string;
  middleware: Koa.Middleware;
}

export interface HttpApp {
  app: Koa;
  /** Mounts the module routes once the modules are up; until then they answer 503 NOT_READY. */
  mount(routes: MountedRoute[]): void;
  /** Stops routing to modules (shutdown): new requests answer 503 NOT_READY. */
  unmount(): void;
}

const REQUEST_ID = /^[\w.:\-]{1,128}$/;

/**
 * The request's logger (its lines carry the request id), built on first use: a pino child with
 * redaction costs more than the rest of a cached GET, and most requests log nothing.
 */
export function requestLog(ctx: Context): Logger {
  return (ctx.state.log ??= (ctx as Context & { rootLog: Logger }).rootLog.child({ reqId: ctx.state.reqId }));
}

export function createHttpApp(opts: HttpAppOptions): HttpApp {
  const app = new Koa();
  app.proxy = false;
  // Koa would print every error itself; ours are logged once in the error middleware.
  app.silent = true;
  app.context.rootLog = opts.log;
  let modules: Koa.Middleware | undefined;
  const observe = httpMetrics(opts.metrics);

  app.use(async (ctx: Context, next: Next) => {
    const given = ctx.get('x-request-id') || ctx.get('x-trace-id');
    const reqId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.reqId = reqId;
    ctx.set('x-request-id', reqId);
    const started = performance.now();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw errors.NOT_FOUND(`No route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const known = toAppError(err);
      const failure = known ?? errors.UNEXPECTED_ERROR(`Unexpected error; the log has the details under request id ${reqId}`);
      const log = requestLog(ctx);
      if (!known) log.error({ err, method: ctx.method, path: ctx.path }, 'unexpected error');
      else if (known.status >= 500) log.warn({ code: known.code, msg: known.message }, 'request failed');
      else log.debug({ code: known.code, msg: known.message }, 'request refused');
      ctx.status = failure.status;
      ctx.body = failure.toBody();
    } finally {
      observe(ctx, started);
    }
  });

  const system = new Router();
  system.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  system.get('/readyz', async (ctx) => {
    const checks = await opts.readiness();
    const ok = Object.values(checks).every(Boolean);
    ctx.status = ok ? 200 : 503;
    ctx.body = { status: ok ? 'ready' : 'not ready', checks };
  });
  system.get('/metrics', async (ctx) => {
    ctx.type = opts.metrics.contentType;
    ctx.body = await opts.metrics.metrics();
  });
  system.get('/openapi.json', (ctx) => {
    ctx.body = opts.openapi();
  });
  serveDocs(system);
  const systemRoutes = system.routes() as unknown as Koa.Middleware;
  const SYSTEM = /^\/(healthz|readyz|metrics|openapi\.json|docs)(\/|$)/;
  app.use((ctx, next) => (SYSTEM.test(ctx.path) ? systemRoutes(ctx, next) : next()));

  app.use((ctx, next) => {
    if (!modules) throw errors.NOT_READY('Not ready: modules are starting or shutting down');
    return modules(ctx, next);
  });

  return {
    app,
    mount(routes) {
      const router = new Router();
      // Paths without parameters are also found by one Map lookup on the exact method and path:
      // @koa/router tests every route and composes a chain per request, the largest cost of a
      // small POST after the socket itself. Everything else (parameters, HEAD, a trailing slash,
      // other letter case, 405) goes through the router, which knows every route.
      const exact = new Map<string, Koa.Middleware>();
      for (const { method, path, middleware } of routes) {
        router[method](path, middleware);
        if (!/[:*(]/.test(path)) exact.set(`${method.toUpperCase()} ${path}`, middleware);
      }
      const routed = router.routes() as unknown as Koa.Middleware;
      const methods = router.allowedMethods({ throw: true }) as unknown as Koa.Middleware;
      modules = (ctx, next) => {
        const hit = exact.get(`${ctx.method} ${ctx.path}`);
        if (!hit) return routed(ctx, () => methods(ctx, next));
        (ctx as Context & { _matchedRoute?: string })._matchedRoute = ctx.path;
        ctx.params = {};
        return hit(ctx, next);
      };
    },
    unmount() {
      modules = undefined;
    },
  };
}

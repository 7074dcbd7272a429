// The Koa app factory: request ids, one error middleware with the access line, host, cross-origin and CORS checks, health,
// metrics, OpenAPI, docs, credentials, then the module router.
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { Registry } from 'prom-client';
import { errors, isDependencyFailure, toAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { apiKeyCheck, onInternalListener, RPC_PATH, rpcTokenCheck } from './auth.ts';
import { ClientClosedError } from './body.ts';
import { cors } from './cors.ts';
import { crossOriginCheck } from './cross-origin.ts';
import { compileMatcher, enter } from './matcher.ts';
import { httpMetrics } from './metrics.ts';
import { serveDocs } from './docs.ts';
import { traceRequest } from './trace-request.ts';
import type { HttpMethod } from './route.ts';

export interface HttpAppOptions {
  log: Logger;
  metrics: Registry;
  /** Every readiness check by name; /readyz is 200 only when all pass. */
  readiness(): Promise<Record<string, boolean>>;
  openapi(): unknown;
  /** API_KEYS: when given, every path but the system routes needs one (/rpc: see rpcToken). */
  apiKeys?: string[];
  /** RPC_TOKEN: when given, every /rpc path needs it, known or not, whether or not this process serves roles. */
  rpcToken?: string;
  /** This process serves roles to other processes: without a token, its /rpc is open (loopback only, see bootstrap). */
  servesRpc?: boolean;
  /** CORS_ORIGINS: the only origins that get CORS headers, and the only other origins whose pages may write. */
  corsOrigins?: string[];
  /** ALLOWED_HOSTS: when given, any other Host is 421 (DNS rebinding); /healthz and /readyz answer any Host. */
  allowedHosts?: string[];
  /** RPC_PORT is set: its listener serves only /rpc and the probes (kernel/server.ts marks its requests). */
  rpcListener?: boolean;
  /** The process traces, or calls roles elsewhere: each request gets a span and its id travels with its calls. */
  traceRequests?: boolean;
  /** /console (kernel/console/): checks its own credentials (its login, or API_KEYS); absent, /console is a path like any other. */
  console?: Koa.Middleware;
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

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const PROBES = /^\/(healthz|readyz)\/?$/;
const SCRAPES = /^\/(healthz|readyz|metrics)\/?$/;

/** `Host: Example.com:8080` → `example.com`; `[::1]:80` and `::1` → `::1`. */
const hostname = (host: string) => host.toLowerCase().replace(/^\[([^\]]*)\](?::\d+)?$|^([^:]*):\d+$/, (_, v6, name) => v6 ?? name);

/**
 * After the router found no route for the method: 404 when no route has the path, else 405 with `Allow`
 * (any method, TRACE and PROPFIND included; OPTIONS answers 204 with `Allow`).
 */
function refuseUnrouted(ctx: Context): void {
  const layers = ((ctx as Context & { matched?: Array<{ methods: string[] }> }).matched ?? []).filter((l) => l.methods.length);
  const allow = [...new Set(layers.flatMap((l) => l.methods))];
  if (!allow.length) throw errors.NOT_FOUND(`No route for ${ctx.method} ${ctx.path}`);
  if (!allow.includes('OPTIONS')) allow.push('OPTIONS');
  ctx.set('allow', allow.join(', '));
  if (ctx.method === 'OPTIONS') {
    ctx.status = 204;
    return;
  }
  throw errors.METHOD_NOT_ALLOWED(`${ctx.method} is not allowed on ${ctx.path}; allowed: ${allow.join(', ')}`);
}

/**
 * The request's logger (its lines carry the request id), built on first use: a pino child with
 * redaction costs more than the rest of a cached GET, and most requests log nothing.
 */
export function requestLog(ctx: Context): Logger {
  return (ctx.state.log ??= (ctx as Context & { rootLog: Logger }).rootLog.child({ reqId: ctx.state.reqId }));
}

/**
 * The access line: one per request, written once the response is done, when the bytes sent are known (Koa
 * sizes a JSON body only after the middleware). The route pattern, never the raw path: ids and query strings
 * stay out of the log and lines group by route. Probes and scrapes are debug, or every-second /readyz calls
 * would drown the rest.
 */
function logAccess(ctx: Context, log: Logger, started: number): void {
  const level = SCRAPES.test(ctx.path) ? 'debug' : 'info';
  if (!log.isLevelEnabled(level)) return;
  const res = ctx.res;
  const write = () => {
    const length = res.getHeader('content-length');
    log[level](
      {
        reqId: ctx.state.reqId,
        method: ctx.method,
        route: (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched',
        // 499 as in the metrics: the client hung up before the whole response was sent.
        status: ctx.state.clientClosed || !res.writableFinished ? 499 : res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        bytes: length === undefined ? undefined : Number(length),
      },
      'request',
    );
  };
  // A client that hung up mid-body: the response may have closed before the middleware got here.
  if (res.closed) write();
  else res.once('close', ctx.state.span ? ctx.state.span.bind(write) : write);
}

export function createHttpApp(opts: HttpAppOptions): HttpApp {
  const app = new Koa();
  app.proxy = false;
  // Koa would print every error itself; ours are logged once in the error middleware.
  app.silent = true;
  app.context.rootLog = opts.log;
  let modules: Koa.Middleware | undefined;
  const observe = httpMetrics(opts.metrics);
  // Node's own Host check is off (kernel/server.ts) so that its 400 gets our body; HTTP/1.1 requires Host.
  // Checked in the first middleware, inside its error handling: one Koa dispatch fewer per request.
  const allowedHosts = opts.allowedHosts?.length ? new Set(opts.allowedHosts.map(hostname)) : undefined;
  const checkHost = (ctx: Context) => {
    const host = ctx.req.headers.host ?? '';
    if (!host && ctx.req.httpVersion !== '1.0') throw errors.BAD_REQUEST('The request has no Host header');
    if (allowedHosts && !PROBES.test(ctx.path) && !allowedHosts.has(hostname(host))) {
      throw errors.MISDIRECTED_REQUEST(`Host ${host.slice(0, 100)} is not served here`);
    }
  };

  const checkOrigin = crossOriginCheck(opts.corsOrigins);

  // First, so that every line of the request (the error middleware's too) is written inside its span.
  if (opts.traceRequests) app.use(traceRequest);
  app.use(async (ctx: Context, next: Next) => {
    // Straight from Node's headers and onto the response: Koa's get/set add a lookup and coercions per call.
    const headers = ctx.req.headers;
    const given = headers['x-request-id'] || headers['x-trace-id'];
    const reqId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.reqId = reqId;
    ctx.res.setHeader('x-request-id', reqId);
    const started = performance.now();
    try {
      checkHost(ctx);
      // Before credentials and routing: a page on another site learns nothing, and its write reaches no handler.
      checkOrigin(ctx);
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw errors.NOT_FOUND(`No route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const log = requestLog(ctx);
      if (err instanceof ClientClosedError) {
        // The client's doing and nobody to answer: counted as 499 (nginx's "client closed request"), not as a 500.
        ctx.state.clientClosed = true;
        log.debug({ method: ctx.method, path: ctx.path }, err.message);
        ctx.status = 400;
        return;
      }
      const known = toAppError(err);
      const dependency = !known && isDependencyFailure(err);
      const failure =
        known ??
        (dependency
          ? errors.SERVICE_UNAVAILABLE(`A backing service is unavailable; retry later (request id ${reqId})`)
          : errors.UNEXPECTED_ERROR(`Unexpected error; the log has the details under request id ${reqId}`));
      if (dependency) log.warn({ err, method: ctx.method, path: ctx.path }, 'backing service unavailable');
      else if (!known) log.error({ err, method: ctx.method, path: ctx.path }, 'unexpected error');
      // The cause is `reason`: a second `msg` key would be dropped by most JSON parsers.
      else if (known.status >= 500) log.warn({ code: known.code, reason: known.message }, 'request failed');
      else log.debug({ code: known.code, reason: known.message }, 'request refused');
      ctx.status = failure.status;
      ctx.body = failure.toBody();
    } finally {
      observe(ctx, started);
      // Nothing is built for the access line unless info is on (the bench and the tests run at warn).
      if (opts.log.isLevelEnabled('info')) logAccess(ctx, opts.log, started);
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

  // Credentials before any routing, so that no answer to an anonymous client tells which paths exist (which roles
  // run here): /rpc on its listener needs the token, known path or not; every other path an API key.
  const rpcToken = opts.rpcToken ? rpcTokenCheck(opts.rpcToken) : undefined;
  const apiKey = opts.apiKeys?.length ? apiKeyCheck(opts.apiKeys) : undefined;
  if (opts.rpcListener) {
    app.use((ctx, next) => {
      if (!onInternalListener(ctx) || PROBES.test(ctx.path)) return next();
      rpcToken?.(ctx);
      if (!RPC_PATH.test(ctx.path)) throw errors.NOT_FOUND(`No route for ${ctx.method} ${ctx.path} on the internal listener`);
      return next();
    });
  }
  if (opts.corsOrigins?.length) app.use(cors(opts.corsOrigins));
  const toModules: Koa.Middleware = (ctx, next) => {
    if (!modules) throw errors.NOT_READY('Not ready: modules are starting or shutting down');
    return modules(ctx, next);
  };
  const rpcOnPort = !opts.rpcListener && Boolean(rpcToken || opts.servesRpc);
  // The probes open; every other path behind the right credential, the system routes too (with API_KEYS, /metrics and
  // /openapi.json would tell a prober which modules and roles a process runs): one middleware, not three.
  // The internal listener's token was checked above; there, /rpc is all there is.
  const CONSOLE = /^\/console(\/|$)/;
  app.use((ctx, next) => {
    // Not on the internal listener (its own middleware above answers 404 off /rpc), and not public API.
    if (opts.console && CONSOLE.test(ctx.path)) return opts.console(ctx, next);
    if (SYSTEM.test(ctx.path)) {
      if (!PROBES.test(ctx.path) && !onInternalListener(ctx)) apiKey?.(ctx);
      return systemRoutes(ctx, async () => refuseUnrouted(ctx));
    }
    if (rpcOnPort && RPC_PATH.test(ctx.path)) rpcToken?.(ctx);
    else if (!onInternalListener(ctx)) apiKey?.(ctx);
    return toModules(ctx, next);
  });

  return {
    app,
    mount(routes) {
      const router = new Router();
      for (const { method, path, middleware } of routes) router[method](path, middleware);
      const routed = router.routes() as unknown as Koa.Middleware;
      // GET/POST/… on a route go straight to its handler through a table built here, once (kernel/http/matcher.ts);
      // everything else (HEAD, OPTIONS, 404, 405) goes through the router, which knows every route.
      const match = compileMatcher(router);
      modules = (ctx, next) => {
        const hit = match(ctx.method, ctx.path);
        if (!hit) return routed(ctx, async () => refuseUnrouted(ctx));
        enter(ctx, hit);
        return hit.middleware(ctx, next);
      };
    },
    unmount() {
      modules = undefined;
    },
  };
}

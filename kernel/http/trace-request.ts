// The HTTP seam of tracing: a server span per request (named by its route, or by the role method of an /rpc call),
// `traceresponse` on the answer, and the request's state carried to the calls it makes (its X-Request-Id).
import type { Context, Next } from 'koa';
import { serverSpan, withRequestState } from '../tracing/index.ts';

// Probes and scrapes come every second and say nothing about a request's time.
const SCRAPES = /^\/(healthz|readyz|metrics)\/?$/;

/** `POST /orders`, `shop.products/reserve` for `/rpc/shop.products/reserve`, `GET` for a path no route has. */
function spanName(ctx: Context): string {
  const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
  if (!route) return ctx.method;
  return route.startsWith('/rpc/') ? route.slice(5) : `${ctx.method} ${route}`;
}

/** Mounted first, and only where the process traces or calls roles elsewhere (kernel/http/app.ts). */
export async function traceRequest(ctx: Context, next: Next): Promise<void> {
  const span = SCRAPES.test(ctx.path) ? undefined : serverSpan(ctx.method, ctx.req.headers, ctx.state);
  if (!span) return withRequestState(ctx.state, next);
  ctx.res.setHeader('traceresponse', span.traceresponse);
  ctx.state.span = span;
  try {
    await span.run(next);
  } finally {
    const status = ctx.state.clientClosed ? 499 : ctx.res.statusCode;
    span.end(spanName(ctx), { http: status, failed: status >= 500 });
  }
}

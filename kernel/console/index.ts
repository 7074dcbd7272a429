// /console: the pages a developer or operator watches — topology, bus and dead letters, traces, modules, mail — served
// by the kernel from its own files (server-rendered HTML and SVG, no script). Not public API: not in /openapi.json.
import type { Context, Middleware } from 'koa';
import type { Bus } from '../bus/types.ts';
import type { KernelConfig } from '../config.ts';
import { listOf } from '../config.ts';
import { errors } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ModuleDefinition } from '../module.ts';
import type { RolePlan } from '../role-plan.ts';
import { consoleAccess, readForm, sessionCookie } from './access.ts';
import { createAudit } from './audit.ts';
import { auditTable, renderBus } from './bus-page.ts';
import { renderMail, renderModules, type Hooks } from './modules-page.ts';
import { esc, layout, where } from './page.ts';
import { probe, renderTopology, type Probe } from './topology.ts';
import { renderTrace, renderTraceList } from './traces-page.ts';
import type { TraceStore } from './trace-store.ts';

export interface ConsoleDeps {
  config: KernelConfig;
  log: Logger;
  /** Every registered module: the picture shows the roles that run elsewhere too. */
  modules: ModuleDefinition<any>[];
  plan: RolePlan;
  readiness(): Promise<Record<string, boolean>>;
  bus(): Bus | undefined;
  /** `module.role` → its console hook, filled as the roles of this process are created. */
  hooks: Hooks;
  address(): { host: string; port: number } | undefined;
  tracing: boolean;
  traces?: TraceStore;
}

export const CONSOLE_PATH = /^\/console(\/|$)/;

// No script runs on these pages, nothing is fetched from elsewhere, no other site may frame them (clickjacking the buttons).
const HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** The console's middleware, or undefined when this process serves none (a HOST off loopback without CONSOLE_TOKEN). */
export function createConsole(deps: ConsoleDeps): Middleware | undefined {
  const access = consoleAccess({ host: deps.config.HOST, token: deps.config.CONSOLE_TOKEN, apiKeys: listOf(deps.config.API_KEYS) });
  if (!access.enabled) return undefined;
  const log = deps.log.child({ component: 'console' });
  const audit = createAudit(log);

  const html = (ctx: Context, status: number, page: string, title: string, body: string, signedIn = true) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    const refresh = Number(ctx.query.refresh);
    ctx.body = layout({ page, title, body, signedIn, refresh: refresh >= 2 && refresh <= 600 ? refresh : undefined });
  };

  const loginForm = (ctx: Context, status: number, message?: string) => {
    const fields = [
      access.asks.token
        ? '<p><label>Console token (CONSOLE_TOKEN)<br><input type="password" name="token" autocomplete="current-password" required></label></p>'
        : '',
      access.asks.key ? '<p><label>API key (API_KEYS)<br><input type="password" name="key" required></label></p>' : '',
    ].join('');
    html(
      ctx,
      status,
      'login',
      'Log in',
      `${message ? `<p class="bad">${esc(message)}</p>` : ''}<form method="post" action="/console/login">${fields}<button>Log in</button></form><p class="muted">Asked once: the browser keeps a cookie only this console reads.</p>`,
      false,
    );
  };

  /** After an action: back to its page (a reload does not post again), the entry shown on top. */
  const done = (ctx: Context, page: string, id: string) => {
    ctx.status = 303;
    ctx.redirect(`/console/${page}?done=${id}`);
  };
  const doneNote = (ctx: Context) => {
    const entry = audit.entries().find((e) => e.id === ctx.query.done);
    return entry ? `<p class="done">${esc(entry.action)} ${esc(entry.target)}: ${esc(entry.outcome)}</p>` : '';
  };

  async function get(ctx: Context, path: string): Promise<void> {
    if (path === '' || path === '/' || path === '/topology') {
      const origins = [...new Set([...deps.plan.remote.values()])];
      const probes = new Map<string, Probe>(await Promise.all(origins.map(async (u) => [where(u), await probe(u)] as [string, Probe])));
      const input = {
        modules: deps.modules,
        plan: deps.plan,
        readiness: await deps.readiness(),
        address: deps.address(),
        bus: deps.config.EVENT_BUS_URL ? 'Redis Streams' : 'in-process',
        database: deps.config.DATABASE_URL ? 'Postgres, a schema per module' : `SQLite files under ${deps.config.DATA_DIR}`,
        tracing: deps.tracing,
      };
      return html(ctx, 200, 'topology', 'Topology', renderTopology(input, probes));
    }
    if (path === '/bus') {
      const bus = deps.bus();
      const [stats, dead] = bus ? await Promise.all([bus.stats(), bus.deadLetters()]) : [undefined, []];
      return html(ctx, 200, 'bus', 'Bus', doneNote(ctx) + renderBus(stats, dead, audit.entries()));
    }
    if (path === '/traces') return html(ctx, 200, 'traces', 'Traces', renderTraceList(deps.traces, deps.tracing));
    const trace = /^\/traces\/([0-9a-f]{32})$/.exec(path);
    if (trace) {
      const body = renderTrace(deps.traces, trace[1]);
      if (!body) return html(ctx, 404, 'traces', 'Trace not held', '<p>This process no longer holds that trace (or never did).</p>');
      return html(ctx, 200, 'traces', 'Trace', body);
    }
    if (path === '/modules') return html(ctx, 200, 'modules', 'Modules', doneNote(ctx) + (await renderModules(deps.hooks)) + auditTable(audit.entries()));
    if (path === '/mail') return html(ctx, 200, 'mail', 'Mail', renderMail(deps.hooks));
    throw errors.NOT_FOUND(`No console page ${path.slice(0, 100)}`);
  }

  async function post(ctx: Context, path: string, who: string): Promise<void> {
    const letter = /^\/bus\/dead-letters\/([^/]{1,100})\/(replay|discard)$/.exec(path);
    if (letter) {
      const bus = deps.bus();
      if (!bus) throw errors.NOT_READY('The event bus has not started yet');
      const id = decodeURIComponent(letter[1]);
      const entry = await audit.run(who, `${letter[2]} dead letter`, id, async () => {
        if (letter[2] === 'discard') return (await bus.discard(id)) ? 'discarded' : 'nothing done: no such dead letter (replayed or discarded already)';
        const r = await bus.replay(id);
        if (r.replayed) return 'replayed: applied, and the dead letter deleted';
        if (r.failed) return 'failed again: the dead letter stays, with the new error and one more attempt';
        return 'nothing done: no such dead letter (replayed or discarded already)';
      });
      return done(ctx, 'bus', entry.id);
    }
    const action = /^\/modules\/([\w.-]{1,100})\/([\w-]{1,100})$/.exec(path);
    if (action) {
      const [, role, name] = action;
      const act = deps.hooks.get(role)?.actions?.[name];
      if (!act) throw errors.NOT_FOUND(`${role} has no console action ${name} in this process`);
      const arg = (await readForm(ctx)).get('arg') ?? '';
      const entry = await audit.run(who, `${role} ${name}`, `${role}:${arg.slice(0, 200)}`, () => act(arg.slice(0, 200)));
      return done(ctx, 'modules', entry.id);
    }
    throw errors.NOT_FOUND(`No console action ${path.slice(0, 100)}`);
  }

  return async (ctx) => {
    for (const [k, v] of Object.entries(HEADERS)) ctx.set(k, v);
    const path = ctx.path.slice('/console'.length);
    const write = ctx.method === 'POST';
    if (!write && ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('allow', 'GET, HEAD, POST');
      throw errors.METHOD_NOT_ALLOWED(`${ctx.method} is not allowed on the console`);
    }
    // Every console POST, the login too: from this origin only — a CORS_ORIGINS site may call the API, not drive the console.
    if (write) access.checkWrite(ctx);
    if (path === '/login') {
      if (!write) return loginForm(ctx, 200);
      const form = await readForm(ctx);
      const value = access.login({ token: form.get('token') ?? undefined, key: form.get('key') ?? undefined });
      if (!value) {
        log.warn({ from: ctx.req.socket.remoteAddress }, 'console login refused');
        // A guess costs a moment: a token of 16+ characters is not found by trying.
        await new Promise((r) => setTimeout(r, 300));
        return loginForm(ctx, 401, 'Wrong token or key.');
      }
      sessionCookie(ctx, value);
      log.info({ from: ctx.req.socket.remoteAddress }, 'console login');
      ctx.status = 303;
      return ctx.redirect('/console');
    }
    const who = access.who(ctx);
    if (!who) {
      // Nothing but the form until the credentials came: no page, no action, no hint of what runs here.
      if (write) throw errors.UNAUTHORIZED('The console needs its login first (/console/login)');
      return loginForm(ctx, 401);
    }
    if (path === '/logout' && write) {
      sessionCookie(ctx, '');
      ctx.status = 303;
      return ctx.redirect(access.asks.token || access.asks.key ? '/console/login' : '/console');
    }
    return write ? post(ctx, path, who) : get(ctx, path);
  };
}

// The composition root: validate everything, then compose config → databases → bus → facades → roles → routes.
// Nothing connects on import.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { z } from 'zod';
import type { ModuleDatabase } from '../db/database.ts';
import { createBus, type Bus } from './bus/index.ts';
import { createConsole } from './console/index.ts';
import { traceStore } from './console/trace-store.ts';
import {
  ConfigError,
  StartupError,
  configKeys,
  kernelConfigSchema,
  listOf,
  localUrl,
  parseConfig,
  readEnv,
  redactUrl,
  type Env,
  type KernelConfig,
} from './config.ts';
import { remoteFacade, type Contract, type Facade, type Transport } from './contract.ts';
import { errors } from './errors.ts';
import { createHttpApp, type HttpApp, type MountedRoute } from './http/app.ts';
import { rpcGuard } from './http/auth.ts';
import { toMiddleware, type RouteSpec } from './http/route.ts';
import { createLogger, type Logger } from './logger.ts';
import { openMigratedDatabase } from './module-database.ts';
import type { BaseContext, ConsoleHook, DatabaseContext, ModuleDefinition, RoleInstance } from './module.ts';
import { buildOpenApi } from './openapi.ts';
import { VERSION } from './version.ts';
import { allModules } from './registry.ts';
import { planRoles, type RolePlan } from './role-plan.ts';
import { carryRequestIds, flushTracing, startTracing, tracedCalls, tracingSettings } from './tracing/index.ts';
import { transportFor } from './transport/index.ts';
import { grpcServedRoles, serveGrpc, type GrpcServer } from './transport/grpc.ts';
import { rpcExposureProblems, rpcPath, rpcServedRoles } from './transport/http.ts';

export interface Kernel {
  app: HttpApp['app'];
  config: KernelConfig;
  log: Logger;
  metrics: Registry;
  plan: RolePlan;
  databases: Map<string, ModuleDatabase>;
  /** Where the public port listens, set by kernel/server.ts (PORT=0 picks the port): the start-up line names it. */
  address?: { host: string; port: number };
  /** Connects databases (with retry), migrates, builds the roles and mounts their routes. */
  start(): Promise<void>;
  isStarted(): boolean;
  bus(): Bus | undefined;
  /** Stops routing, flushes the outbox, stops roles, closes databases. */
  close(): Promise<void>;
}

export interface BootstrapOptions {
  env?: Env;
  modules?: ModuleDefinition<any>[];
  log?: Logger;
  /** The clock every role reads through `ctx.now()`. */
  clock?: () => Date;
  /** `module.role` → the transport to reach it by, instead of the one its URL names (tests: a stub target, a fault). */
  transports?: Record<string, Transport>;
}

/** Validates all configuration at once (throws ConfigError / StartupError listing every problem), then builds the app. */
export function bootstrap(opts: BootstrapOptions = {}): Kernel {
  const { config, moduleConfig, plan, modules } = validate(opts);
  return compose(opts, config, moduleConfig, plan, modules);
}

interface Validated {
  config: KernelConfig;
  moduleConfig: Record<string, unknown>;
  plan: RolePlan;
  /** The modules with at least one role in this process. */
  modules: ModuleDefinition<any>[];
}

/** Every start-up problem at once: the role plan's (MODULES, role URLs, subscriptions), the kernel's config and each running module's. */
function validate(opts: BootstrapOptions): Validated {
  const known = opts.modules ?? allModules;
  const names = [kernelConfigSchema, ...known.map((m) => m.config ?? z.object({}))].flatMap(configKeys);
  const env = readEnv(opts.env ?? process.env, names);
  let planned: RolePlan | undefined;
  let problems: string[] = [];
  try {
    planned = planRoles(known, env.MODULES, env, Boolean(env.EVENT_BUS_URL));
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    problems = err.problems;
  }
  const modules = planned ? [...new Set(planned.local.map((r) => r.module))] : known;
  let config: KernelConfig;
  let moduleConfig: Record<string, unknown>;
  try {
    ({ kernel: config, ...moduleConfig } = parseConfig(
      { ...Object.fromEntries(modules.map((m) => [m.name, m.config ?? z.object({})])), kernel: kernelConfigSchema },
      env,
    ) as { kernel: KernelConfig } & Record<string, unknown>);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError([...err.problems, ...problems]);
  }
  if (!planned) throw new StartupError(problems);
  // With RPC_PORT, /rpc is only on that listener: its interface is the one that matters.
  const rpcHost = config.RPC_PORT === undefined ? config.HOST : (config.RPC_HOST ?? config.HOST);
  const exposure = rpcExposureProblems(rpcServedRoles(known, planned), rpcHost, config.RPC_TOKEN);
  if (exposure.length) throw new StartupError(exposure);
  return { config, moduleConfig, plan: planned, modules };
}

function compose(
  opts: BootstrapOptions,
  config: KernelConfig,
  moduleConfig: Record<string, unknown>,
  plan: RolePlan,
  modules: ModuleDefinition<any>[],
): Kernel {
  const log = opts.log ?? createLogger(config.LOG_LEVEL, undefined, config.LOG_FORMAT);
  const now = opts.clock ?? (() => new Date());
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  const databases = new Map<string, ModuleDatabase>();
  const facades = new Map<string, Facade<Contract>>();
  const transports = new Map<string, Transport>();
  const instances: RoleInstance[] = [];
  const readinessChecks = new Map<string, () => boolean | Promise<boolean>>();
  const routes: Array<RouteSpec & { module: string }> = [];
  let openapi: unknown;
  let bus: Bus | undefined;
  let grpc: GrpcServer | undefined;
  let started = false;
  // Roles other processes call over /rpc (kernel/transport/http.ts rpcServedRoles); in one process, none.
  const rpcRoles = new Set(rpcServedRoles(opts.modules ?? allModules, plan));
  const tracingOn = tracingSettings(
    config,
    plan.local.map((r) => r.name),
    !config.MODULES,
  );
  if (plan.remote.size) carryRequestIds();
  // The console's view of the roles (kernel/console/): their hooks as they are created, the last traces in memory.
  const hooks = new Map<string, ConsoleHook>();
  const traces = tracingOn && config.CONSOLE_TRACES > 0 ? traceStore(config.CONSOLE_TRACES) : undefined;
  async function readiness(): Promise<Record<string, boolean>> {
    const checks: Record<string, boolean> = { started };
    for (const [name, check] of readinessChecks)
      checks[name] = await Promise.resolve()
        .then(check)
        .catch(() => false);
    return checks;
  }

  const http = createHttpApp({
    log,
    metrics,
    apiKeys: listOf(config.API_KEYS),
    corsOrigins: listOf(config.CORS_ORIGINS),
    allowedHosts: listOf(config.ALLOWED_HOSTS),
    rpcListener: config.RPC_PORT !== undefined,
    rpcToken: config.RPC_TOKEN,
    servesRpc: rpcRoles.size > 0,
    traceRequests: Boolean(tracingOn) || plan.remote.size > 0,
    // Built once the routes are mounted; until then, the document of no routes.
    openapi: () => (openapi ??= buildOpenApi(routes, VERSION, { apiKeys: Boolean(config.API_KEYS) })),
    readiness,
    console: createConsole({
      config,
      log,
      modules: opts.modules ?? allModules,
      plan,
      readiness,
      bus: () => bus,
      hooks,
      address: () => kernel.address,
      tracing: Boolean(tracingOn),
      traces,
    }),
  });

  /** A facade resolved at call time, so roles may be created in any order. */
  function facadeOf<C extends Contract>(contract: C): Facade<C> {
    const remote = plan.remote.get(contract.role);
    if (remote) {
      let transport = opts.transports?.[contract.role] ?? transports.get(contract.role);
      if (!transport) {
        transport = transportFor(remote, config, { metrics, log });
        transports.set(contract.role, transport);
      }
      return tracedCalls(contract.role, remoteFacade(contract, transport), 'client');
    }
    // Resolved on first call (roles are created in any order), then a direct call.
    const calls: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const method of Object.keys(contract.methods)) {
      let local: ((input: unknown) => Promise<unknown>) | undefined;
      calls[method] = (input) => {
        local ??= (facades.get(contract.role) as Record<string, (i: unknown) => Promise<unknown>> | undefined)?.[method];
        if (!local) return Promise.reject(errors.ROLE_UNAVAILABLE(`${contract.role} is not running in this process`));
        return local(input);
      };
    }
    return tracedCalls(contract.role, calls, 'internal') as Facade<C>;
  }

  async function openDatabases(): Promise<void> {
    for (const m of modules) {
      if (!m.migrations) continue;
      const mdb = await openMigratedDatabase(m, config, log);
      databases.set(m.name, mdb);
      readinessChecks.set(`db:${m.name}`, () => mdb.ping());
    }
  }

  async function start(): Promise<void> {
    // Before anything opens: databases are wrapped for their spans as they open (db/trace-hooks.ts).
    await startTracing(tracingOn, traces ? [traces] : []);
    // gRPC listens before the databases connect, so its health answers NOT_SERVING (not nothing) until the roles run.
    grpc = await serveGrpc(
      config,
      grpcServedRoles(
        plan.local,
        (role) => facades.get(role),
        async (m) => started && ((await databases.get(m.name)?.ping()) ?? !m.migrations),
      ),
      { log, metrics },
    );
    await openDatabases();
    bus = createBus({
      url: config.EVENT_BUS_URL,
      streamPrefix: config.BUS_STREAM_PREFIX,
      pollMs: config.BUS_POLL_MS,
      inline: config.BUS_INLINE,
      log,
      metrics,
      maxAttempts: config.BUS_MAX_ATTEMPTS,
      retryBaseMs: config.BUS_RETRY_BASE_MS,
      ephemeralRedis: config.BUS_EPHEMERAL_REDIS,
    });
    readinessChecks.set('bus', () => bus!.ready());
    const mounted: MountedRoute[] = [];
    for (const { module, role, name } of plan.local) {
      const spec = module.roles[role];
      const mdb = databases.get(module.name);
      const base: BaseContext = {
        name,
        config: moduleConfig[module.name],
        kernel: config,
        log: log.child({ role: name }),
        metrics,
        now,
        facade: facadeOf,
        addReadinessCheck: (check, fn) => void readinessChecks.set(`${name}:${check}`, fn),
      };
      const withDb: DatabaseContext | undefined = mdb && {
        db: mdb.db,
        dialect: mdb.dialect,
        sqlite: mdb.sqlite,
        read: mdb.read,
        bus: bus.publisher(module.name, mdb),
      };
      const instance = await (spec.create as (ctx: BaseContext) => RoleInstance | Promise<RoleInstance>)({ ...base, ...withDb });
      instances.push(instance);
      if (instance.console) hooks.set(name, instance.console);
      const provides = spec.provides;
      if (provides && instance.facade) {
        facades.set(provides.role, instance.facade as Facade<Contract>);
        if (rpcRoles.has(provides.role))
          mountRpc(
            mounted,
            provides,
            instance.facade as Record<string, (i: unknown) => Promise<unknown>>,
            config.BODY_LIMIT,
            config.RPC_TOKEN,
            config.RPC_PORT !== undefined,
          );
      }
      for (const route of instance.routes ?? []) {
        routes.push({ ...route, module: module.name });
        const middleware = toMiddleware(route, config.BODY_LIMIT);
        for (const method of [route.method].flat()) mounted.push({ method, path: route.path, middleware });
      }
      for (const { topic, handle } of instance.subscriptions ?? []) {
        // The plan checked declared topics against migrations; a handler for an undeclared one is a bug in the module.
        if (!mdb || !spec.subscribes?.includes(topic)) throw new Error(`${name} handles ${topic.name} without declaring it in subscribes`);
        // The handler sees the payload as its topic's schema parses it; one that does not parse fails like any handler.
        bus.subscribe(name, mdb, topic.name, (event, trx, afterCommit) => handle({ ...event, payload: topic.payload.parse(event.payload) }, trx, afterCommit));
      }
    }
    await bus.start();
    http.mount(mounted);
    openapi = undefined;
    started = true;
    // The one line that tells an operator where to go: the API and its docs, what runs here and where the rest is.
    const api = localUrl(kernel.address?.host ?? config.HOST, kernel.address?.port ?? config.PORT);
    const remote = Object.fromEntries([...plan.remote].map(([role, url]) => [role, redactUrl(url)]));
    log.info({ api, docs: `${api}/docs`, roles: plan.local.map((r) => r.name), remote, rpc: [...rpcRoles] }, 'modules started');
    if (rpcRoles.size && !config.RPC_TOKEN)
      log.warn({ rpc: [...rpcRoles] }, 'serving roles to other processes without RPC_TOKEN (allowed on a loopback HOST only)');
  }

  async function close(): Promise<void> {
    started = false;
    http.unmount();
    hooks.clear();
    await grpc?.stop(config.SHUTDOWN_TIMEOUT_MS);
    await bus?.stop();
    for (const instance of instances.reverse()) await instance.stop?.();
    for (const transport of transports.values()) await transport.close?.();
    for (const mdb of databases.values()) await mdb.close();
    databases.clear();
    await flushTracing();
  }

  const kernel: Kernel = {
    app: http.app,
    config,
    log,
    metrics,
    plan,
    databases,
    start,
    isStarted: () => started,
    bus: () => bus,
    close,
  };
  return kernel;
}

/** Serves a role's facade over HTTP for callers in other processes: POST /rpc/<module.role>/<method>, with RPC_TOKEN when set. */
function mountRpc(
  mounted: MountedRoute[],
  contract: Contract,
  impl: Record<string, (input: unknown) => Promise<unknown>>,
  bodyLimit: number,
  token: string | undefined,
  internalOnly: boolean,
): void {
  for (const [method, spec] of Object.entries(contract.methods)) {
    const path = rpcPath(contract.role, method);
    const handler = async ({ body }: { body: unknown }) => {
      const output = await impl[method](body);
      return output === undefined ? { status: 204 } : { body: output };
    };
    // The same request handling as a module route: body limit, JSON, validation against the contract.
    const middleware = toMiddleware({ method: 'post', path, summary: `${contract.role}.${method}`, body: spec.input, responses: {}, handler }, bodyLimit);
    mounted.push({ method: 'post', path, middleware: rpcGuard(token, middleware, internalOnly) });
  }
}

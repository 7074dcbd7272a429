// The composition root: config → databases → bus → facades → roles → routes. Nothing connects on import.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { z } from 'zod';
import { openModuleDatabase, type ModuleDatabase } from '../db/database.ts';
import { migrateUp } from '../db/migrator.ts';
import { createBus, busMigrations, type Bus } from './bus/index.ts';
import { ConfigError, configKeys, kernelConfigSchema, parseConfig, readEnv, type Env, type KernelConfig } from './config.ts';
import { remoteFacade, type Contract, type Facade, type Transport } from './contract.ts';
import { errors } from './errors.ts';
import { planRoles, StartupError, type RolePlan } from './flags.ts';
import { createHttpApp, type HttpApp, type MountedRoute } from './http/app.ts';
import { rpcPath, httpTransport } from './http-transport.ts';
import { toMiddleware, type RouteSpec } from './http/route.ts';
import { createLogger, type Logger } from './logger.ts';
import type { ModuleDefinition, RoleContext, RoleInstance } from './module.ts';
import { buildOpenApi } from './openapi.ts';
import { allModules } from './registry.ts';

export interface Kernel {
  app: HttpApp['app'];
  config: KernelConfig;
  log: Logger;
  metrics: Registry;
  plan: RolePlan;
  databases: Map<string, ModuleDatabase>;
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
}

/** Validates all configuration at once (throws ConfigError / StartupError listing every problem) and builds the app. */
export function bootstrap(opts: BootstrapOptions = {}): Kernel {
  const known = opts.modules ?? allModules;
  const names = [kernelConfigSchema, ...known.map((m) => m.config ?? z.object({}))].flatMap(configKeys);
  const env = readEnv(opts.env ?? process.env, names);
  // Every problem at once: the role plan's, the kernel's and those of each module that would run.
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
  const plan = planned;
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });

  const databases = new Map<string, ModuleDatabase>();
  const facades = new Map<string, Facade<Contract>>();
  const transports = new Map<string, Transport>();
  const instances: RoleInstance[] = [];
  const readinessChecks = new Map<string, () => boolean | Promise<boolean>>();
  const routes: Array<RouteSpec & { module: string }> = [];
  let bus: Bus | undefined;
  let started = false;

  const http = createHttpApp({
    log,
    metrics,
    openapi: () => buildOpenApi(routes, '0.1.0'),
    async readiness() {
      const checks: Record<string, boolean> = { started };
      for (const [name, check] of readinessChecks) checks[name] = await Promise.resolve().then(check).catch(() => false);
      return checks;
    },
  });

  /** A facade resolved at call time, so roles may be created in any order. */
  function facadeOf<C extends Contract>(contract: C): Facade<C> {
    const remote = plan.remote.get(contract.role);
    if (remote) {
      let transport = transports.get(contract.role);
      if (!transport) {
        transport = httpTransport({ baseUrl: remote, timeoutMs: config.RPC_TIMEOUT_MS, retries: config.RPC_RETRIES });
        transports.set(contract.role, transport);
      }
      return remoteFacade(contract, transport);
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
    return calls as Facade<C>;
  }

  async function openDatabases(): Promise<void> {
    for (const m of modules) {
      if (!m.migrations) continue;
      const mdb = await openModuleDatabase(m.name, {
        dataDir: config.DATA_DIR,
        databaseUrl: config.DATABASE_URL,
        connect: { attempts: config.DB_CONNECT_ATTEMPTS, baseMs: config.DB_CONNECT_BASE_MS, maxMs: config.DB_CONNECT_MAX_MS },
        log,
      });
      databases.set(m.name, mdb);
      readinessChecks.set(`db:${m.name}`, () => mdb.ping());
      const applied = await migrateUp(mdb, { ...busMigrations, ...m.migrations });
      if (applied.length) log.info({ module: m.name, applied }, 'migrations applied');
    }
  }

  async function start(): Promise<void> {
    await openDatabases();
    bus = createBus({
      url: config.EVENT_BUS_URL,
      streamPrefix: config.BUS_STREAM_PREFIX,
      pollMs: config.BUS_POLL_MS,
      log,
      metrics,
      maxAttempts: config.BUS_MAX_ATTEMPTS,
      retryBaseMs: config.BUS_RETRY_BASE_MS,
    });
    readinessChecks.set('bus', () => bus!.ready());
    const mounted: MountedRoute[] = [];
    for (const { module, role, name } of plan.local) {
      const mdb = databases.get(module.name);
      const ctx: RoleContext = {
        name,
        config: moduleConfig[module.name],
        kernel: config,
        log: log.child({ role: name }),
        db: mdb?.db as RoleContext['db'],
        dialect: mdb?.dialect ?? 'sqlite',
        sqlite: mdb?.sqlite,
        bus: mdb ? bus.publisher(module.name, mdb) : { publish: () => Promise.reject(new Error(`${module.name} has no database for an outbox`)) },
        facade: facadeOf,
        metrics,
        addReadinessCheck: (check, fn) => void readinessChecks.set(`${name}:${check}`, fn),
      };
      const instance = await module.roles[role].create(ctx);
      instances.push(instance);
      const provides = module.roles[role].provides;
      if (provides && instance.facade) {
        facades.set(provides.role, instance.facade as Facade<Contract>);
        mountRpc(mounted, provides, instance.facade as Record<string, (i: unknown) => Promise<unknown>>, config.BODY_LIMIT);
      }
      for (const spec of instance.routes ?? []) {
        routes.push({ ...spec, module: module.name });
        const middleware = toMiddleware(spec, config.BODY_LIMIT);
        for (const method of [spec.method].flat()) mounted.push({ method, path: spec.path, middleware });
      }
      for (const [topic, handler] of Object.entries(instance.subscriptions ?? {})) {
        if (!mdb) throw new Error(`${name} subscribes to ${topic} but ${module.name} has no database for its inbox`);
        bus.subscribe(name, mdb, topic, handler);
      }
    }
    await bus.start();
    http.mount(mounted);
    started = true;
    log.info({ roles: plan.local.map((r) => r.name), remote: Object.fromEntries(plan.remote) }, 'modules started');
  }

  async function close(): Promise<void> {
    started = false;
    http.unmount();
    await bus?.stop();
    for (const instance of instances.reverse()) await instance.stop?.();
    for (const transport of transports.values()) await transport.close?.();
    for (const mdb of databases.values()) await mdb.close();
    databases.clear();
  }

  return {
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
}

/** Serves a role's facade over HTTP for callers in other processes: POST /rpc/<module.role>/<method>. */
function mountRpc(mounted: MountedRoute[], contract: Contract, impl: Record<string, (input: unknown) => Promise<unknown>>, bodyLimit: number): void {
  for (const [method, spec] of Object.entries(contract.methods)) {
    const path = rpcPath(contract.role, method);
    const handler = async ({ body }: { body: unknown }) => {
      const output = await impl[method](body);
      return output === undefined ? { status: 204 } : { body: output };
    };
    // The same request handling as a module route: body limit, JSON, validation against the contract.
    const middleware = toMiddleware({ method: 'post', path, summary: `${contract.role}.${method}`, body: spec.input, responses: {}, handler }, bodyLimit);
    mounted.push({ method: 'post', path, middleware });
  }
}

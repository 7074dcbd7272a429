// The benchmark.api role: the REST API and the two commands, the flow's event handlers up to the report, and the timeout sweeper.
import { join } from 'node:path';
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import { ownApiKey } from '../api-keys.ts';
import type { BenchmarkConfig } from '../config.ts';
import type { BenchmarkDB } from '../db.ts';
import { createCommands } from './commands.ts';
import { benchmarkConsole } from './console.ts';
import { startSweep } from '../sweep.ts';
import { createTargetPolicy } from '../target-policy.ts';
import { createFlow } from './flow.ts';
import { createLimits } from './limits.ts';
import { benchmarkRoutes } from './routes.ts';
import { loadKey, secretBox } from './secrets.ts';
import { createStore } from './store.ts';
import { uploadSeconds } from './summary.ts';

export function createApiRole(ctx: RoleContext<BenchmarkConfig, BenchmarkDB>): RoleInstance {
  const { config, log } = ctx;
  const store = createStore(ctx.db);
  const own = ownApiKey(ctx.kernel);
  const box = secretBox(loadKey(config.BENCHMARK_SECRET_KEY, ctx.kernel.DATA_DIR));
  const policy = createTargetPolicy({ targets: config.BENCHMARK_TARGETS, host: ctx.kernel.HOST, port: ctx.kernel.PORT });
  const commands = createCommands({
    db: ctx.db,
    sqlite: ctx.sqlite,
    store,
    bus: ctx.bus,
    box,
    log,
    now: ctx.now,
    defaultTimeoutSeconds: config.BENCHMARK_TIMEOUT_SECONDS,
    metrics: ctx.metrics,
    policy,
  });
  const flow = createFlow({
    db: ctx.db,
    store,
    bus: ctx.bus,
    box,
    log,
    now: ctx.now,
    reportsDir: config.BENCHMARK_REPORTS_DIR ?? join(ctx.kernel.DATA_DIR, 'reports'),
    http: { timeoutMs: config.BENCHMARK_HTTP_TIMEOUT_MS, retries: config.BENCHMARK_HTTP_RETRIES, uploadBatch: config.BENCHMARK_UPLOAD_BATCH },
    policy,
    limits: createLimits(config.BENCHMARK_HTTP_PER_TARGET, config.BENCHMARK_HTTP_CONCURRENCY),
    // This process's own key only to the address it listens on, as connected to; a configured key to every target.
    targetApiKey: (isOwn) => config.BENCHMARK_TARGET_API_KEY ?? (isOwn ? own : undefined),
  });

  // The deadline is a column, so a benchmark overdue while the process was down fails on the first sweep after the restart;
  // a target step no process is taking (its process crashed) is taken up again.
  const stopSweep = startSweep(config.BENCHMARK_SWEEP_MS, 'benchmark timeout sweep', log, async () => {
    for (const id of await store.pendingSteps(ctx.now().getTime())) flow.kick(id);
    for (const id of await store.overdue(ctx.now().getTime())) {
      await ctx.db.transaction().execute(async (trx) => {
        const b = await store.get(id, trx);
        if (!b || b.closing) return;
        const docs = await store.documents(id, trx);
        const missing = docs.filter((d) => uploadSeconds(d) === null).length;
        await flow.fail(trx, id, `timeout: ${missing} of ${docs.length} documents without both callbacks after ${b.options.timeout_seconds} s`);
      });
    }
  });

  return {
    routes: benchmarkRoutes(store, commands, config.BENCHMARK_MAX_DOCUMENTS),
    subscriptions: flow.handlers,
    console: benchmarkConsole(store),
    async stop() {
      stopSweep();
      await flow.stop();
      await commands.close();
    },
  };
}

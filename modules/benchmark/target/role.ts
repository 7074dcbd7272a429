// The benchmark.target role: a document platform speaking the original's protocol, so a benchmark needs nothing else.
import type { BaseContext, RoleInstance } from '../../../kernel/module.ts';
import { carriedApiKey, isThisProcess, ownApiKey } from '../api-keys.ts';
import type { BenchmarkConfig } from '../config.ts';
import { createTargetPolicy } from '../target-policy.ts';
import { createProcessor } from './processor.ts';
import { targetRoutes } from './routes.ts';

/** /target beside the API in one process; the root when this process runs only the target (unless configured). */
export function targetPrefix(configured: string | undefined, modules: string | undefined): string {
  if (configured !== undefined) return configured;
  const names = (modules ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const alone = names.length > 0 && names.every((n) => n === 'benchmark.target' || !n.startsWith('benchmark'));
  return alone ? '' : '/target';
}

export function createTargetRole(ctx: BaseContext<BenchmarkConfig>): RoleInstance {
  const { config } = ctx;
  const processor = createProcessor({
    delay: config.BENCHMARK_TARGET_DELAY_MS,
    concurrency: config.BENCHMARK_TARGET_CONCURRENCY,
    silentShare: config.BENCHMARK_TARGET_FAULT_SILENT,
    log: ctx.log,
    policy: createTargetPolicy({ targets: config.BENCHMARK_TARGETS, host: ctx.kernel.HOST, port: ctx.kernel.PORT }),
  });
  // API_KEYS here: callbacks carry a key (docs/benchmark.md, "API keys"); without API_KEYS, none unless configured.
  const keys = ownApiKey(ctx.kernel) !== undefined;
  const configuredUrlIsUs = config.BENCHMARK_CALLBACK_URL !== undefined && isThisProcess(config.BENCHMARK_CALLBACK_URL, ctx.kernel);
  const callbackApiKey = (headers: Record<string, string | string[] | undefined>) => {
    if (config.BENCHMARK_CALLBACK_API_KEY) return config.BENCHMARK_CALLBACK_API_KEY;
    if (!keys) return undefined;
    if (config.BENCHMARK_CALLBACK_URL === undefined) return carriedApiKey(headers);
    return configuredUrlIsUs ? ownApiKey(ctx.kernel) : undefined;
  };
  return {
    routes: targetRoutes({
      prefix: targetPrefix(config.BENCHMARK_TARGET_PREFIX, ctx.kernel.MODULES),
      password: config.BENCHMARK_TARGET_PASSWORD,
      sessionMs: config.BENCHMARK_TARGET_SESSION_MS,
      errorShare: config.BENCHMARK_TARGET_FAULT_ERROR,
      callbackUrl: config.BENCHMARK_CALLBACK_URL,
      callbackApiKey,
      processor,
      now: ctx.now,
    }),
    stop: async () => processor.stop(),
  };
}

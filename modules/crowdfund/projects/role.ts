// The crowdfund.projects role: the REST API, calling crowdfund.threads through its facade (in-process, HTTP or gRPC).
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import type { CrowdfundConfig } from '../config.ts';
import { projectsConsole } from '../console.ts';
import { threadsContract } from '../contract.ts';
import type { CrowdfundDB } from '../db.ts';
import { projectRoutes } from './routes.ts';
import { createProjectService } from './service.ts';
import { createProjectStore } from './store.ts';
import { threadRoutes } from './thread-routes.ts';

export function createProjectsRole(ctx: RoleContext<CrowdfundConfig, CrowdfundDB>): RoleInstance {
  const threads = ctx.facade(threadsContract);
  const store = createProjectStore(ctx.db, ctx.sqlite);
  const service = createProjectService({
    db: ctx.db,
    store,
    threads,
    bus: ctx.bus,
    log: ctx.log,
    now: ctx.now,
    maxTags: ctx.config.CROWDFUND_MAX_TAGS,
    idempotencyTtlMs: ctx.config.CROWDFUND_IDEMPOTENCY_TTL_MS,
  });
  // Expired idempotency keys are replaced when reused; the rest are swept hourly so the table stays small.
  const ttl = ctx.config.CROWDFUND_IDEMPOTENCY_TTL_MS;
  const sweep = setInterval(
    () => {
      store.pruneKeys(new Date(ctx.now().getTime() - ttl).toISOString()).catch((err) => ctx.log.warn({ err }, 'idempotency key sweep failed'));
    },
    Math.min(ttl, 3_600_000),
  );
  sweep.unref();
  return {
    routes: [...projectRoutes(service), ...threadRoutes(threads)],
    console: projectsConsole(ctx.db),
    stop: async () => clearInterval(sweep),
  };
}

// The crowdfund.projects role: the REST API, calling crowdfund.threads through its facade (in-process, HTTP or gRPC).
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import type { CrowdfundConfig } from '../config.ts';
import { threadsContract } from '../contract.ts';
import { projectRoutes } from './routes.ts';
import { createProjectService } from './service.ts';
import { createProjectStore } from './store.ts';
import { threadRoutes } from './thread-routes.ts';

export function createProjectsRole(ctx: RoleContext<CrowdfundConfig>): RoleInstance {
  const threads = ctx.facade(threadsContract);
  const service = createProjectService({
    db: ctx.db,
    store: createProjectStore(ctx.db),
    threads,
    bus: ctx.bus,
    log: ctx.log,
    now: ctx.now,
    maxTags: ctx.config.CROWDFUND_MAX_TAGS,
    idempotencyTtlMs: ctx.config.CROWDFUND_IDEMPOTENCY_TTL_MS,
  });
  return { routes: [...projectRoutes(service), ...threadRoutes(threads)] };
}

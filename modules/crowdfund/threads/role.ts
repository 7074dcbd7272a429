// The crowdfund.threads role: the threads facade (in-process, HTTP or gRPC) and the threads of each proposed project.
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import type { CrowdfundConfig } from '../config.ts';
import { threadsConsole } from '../console.ts';
import { PROJECT_PROPOSED, projectProposedSchema, type threadsContract } from '../contract.ts';
import { createThreadService } from './service.ts';
import { createThreadStore } from './store.ts';

export function createThreadsRole(ctx: RoleContext<CrowdfundConfig>): RoleInstance<typeof threadsContract> {
  const service = createThreadService({ db: ctx.db, store: createThreadStore(ctx.db, ctx.sqlite), now: ctx.now });
  return {
    facade: service.facade,
    stop: service.stop,
    console: threadsConsole(ctx.db),
    subscriptions: {
      // Runs in the kernel's consumer transaction on the crowdfund database (inbox entry included).
      async [PROJECT_PROPOSED](event, trx) {
        await service.applyProposal(trx, projectProposedSchema.parse(event.payload));
      },
    },
  };
}

// The crowdfund.threads role: the threads facade (in-process, HTTP or gRPC) and the threads of each proposed project.
import type { Transaction } from 'kysely';
import { on } from '../../../kernel/bus/types.ts';
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import type { CrowdfundConfig } from '../config.ts';
import { threadsConsole } from '../console.ts';
import { PROJECT_PROPOSED, type threadsContract } from '../contract.ts';
import type { CrowdfundDB } from '../db.ts';
import { createThreadService } from './service.ts';
import { createThreadStore } from './store.ts';

export function createThreadsRole(ctx: RoleContext<CrowdfundConfig, CrowdfundDB>): RoleInstance<typeof threadsContract> {
  const service = createThreadService({ db: ctx.db, store: createThreadStore(ctx.db, ctx.sqlite), now: ctx.now });
  return {
    facade: service.facade,
    stop: service.stop,
    console: threadsConsole(ctx.db),
    subscriptions: [
      // Runs in the kernel's consumer transaction on the crowdfund database (inbox entry included).
      on(PROJECT_PROPOSED, async ({ payload }, trx: Transaction<CrowdfundDB>) => service.applyProposal(trx, payload)),
    ],
  };
}

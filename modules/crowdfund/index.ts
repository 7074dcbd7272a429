// The crowdfund module: projects over REST and their problem, solution and comment threads, served in-process, over HTTP or gRPC.
// Shared at the root: db.ts (the tables, every role's ctx.db), console.ts and sql.ts (both roles), threads.proto (the threads contract on the wire, bound in contract.ts).
import { defineModule } from '../../kernel/module.ts';
import { crowdfundConfigSchema } from './config.ts';
import { PROJECT_PROPOSED, threadsContract } from './contract.ts';
import type { CrowdfundDB } from './db.ts';
import { migrations } from './migrations/index.ts';
import { createProjectsRole } from './projects/role.ts';
import { smokeCrowdfund } from './smoke.ts';
import { createThreadsRole } from './threads/role.ts';

export const crowdfund = defineModule<typeof crowdfundConfigSchema, CrowdfundDB>({
  name: 'crowdfund',
  description: 'Crowdfunding projects with tags (REST) and their threads with votes and replies (threads.proto over gRPC)',
  config: crowdfundConfigSchema,
  migrations,
  roles: {
    threads: {
      provides: threadsContract,
      subscribes: [PROJECT_PROPOSED],
      create: createThreadsRole,
    },
    projects: {
      uses: [threadsContract],
      publishes: [PROJECT_PROPOSED],
      create: createProjectsRole,
    },
  },
  smoke: smokeCrowdfund,
});

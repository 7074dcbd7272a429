// The benchmark module: latency benchmarks of a document-upload platform (the slowking system) and a built-in target.
// Shared at the root: api-keys.ts and target-http.ts (api and target), target-policy.ts (config.ts, api and target),
// sweep.ts (api and notifier), report-json.ts (the report the api role writes and the notifier mails), db.ts (the tables
// every role's ctx.db is typed by).
import { defineModule } from '../../kernel/module.ts';
import { createApiRole } from './api/role.ts';
import { benchmarkConfigSchema } from './config.ts';
import { EVENTS } from './contract.ts';
import type { BenchmarkDB } from './db.ts';
import { migrations } from './migrations/index.ts';
import { createNotifierRole } from './notifier/role.ts';
import { benchmarkSmoke } from './smoke.ts';
import { createTargetRole } from './target/role.ts';

const FLOW_EVENTS = Object.values(EVENTS);
const UNTIL_REPORT = FLOW_EVENTS.filter((t) => t !== EVENTS.ReportCompleted);

export const benchmark = defineModule<typeof benchmarkConfigSchema, BenchmarkDB>({
  name: 'benchmark',
  description: 'Event-driven latency benchmarks of a document-upload platform: login, project, upload, callbacks, CSV/JSON/HTML reports, email',
  config: benchmarkConfigSchema,
  migrations,
  roles: {
    api: {
      // The flow's steps are events this role publishes and handles itself, each through the outbox and the inbox.
      publishes: FLOW_EVENTS,
      subscribes: UNTIL_REPORT,
      create: createApiRole,
    },
    notifier: {
      subscribes: [EVENTS.ReportCompleted],
      create: createNotifierRole,
    },
    target: {
      create: createTargetRole,
    },
  },
  smoke: benchmarkSmoke,
});

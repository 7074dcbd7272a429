// The benchmark.notifier role: ReportCompleted → one email (or log line) per benchmark. A role of its own, so its
// consumer retries a failing SMTP server without holding up the flow's events (on Redis Streams each consumer
// reads on its own; in-process the relay still waits for every consumer of a batch).
import type { BaseContext, DatabaseContext, RoleInstance } from '../../../kernel/module.ts';
import { createStore } from '../api/store.ts';
import type { ReportJson } from '../api/report.ts';
import type { BenchmarkConfig } from '../config.ts';
import { EVENTS, benchmarkEventSchema } from '../contract.ts';
import { createNotifier, messageIdFor } from './notify.ts';

export function createNotifierRole(ctx: BaseContext<BenchmarkConfig> & DatabaseContext): RoleInstance {
  const { config, log } = ctx;
  const store = createStore(ctx.db);
  const notifier = createNotifier({ smtpUrl: config.SMTP_URL, from: config.BENCHMARK_MAIL_FROM, timeoutMs: config.BENCHMARK_SMTP_TIMEOUT_MS, log });
  const notifyTo = (config.BENCHMARK_NOTIFY_TO ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

  return {
    subscriptions: {
      async [EVENTS.ReportCompleted](event, trx) {
        const { benchmark_id: id } = benchmarkEventSchema.parse(event.payload);
        const b = await store.get(id, trx);
        const row = await store.report(id, trx);
        if (!b || !row) return;
        const recipients = b.options.notify ?? notifyTo;
        const messageId = messageIdFor(id);
        // Recorded first, in the same transaction: a failed send rolls the record back and the bus retries.
        if (!(await store.insertNotification(trx, id, { message_id: messageId, via: notifier.via, recipients }, ctx.now().toISOString()))) return;
        if (notifier.via === 'smtp' && recipients.length === 0) {
          log.warn({ benchmark: id }, 'no recipients (notify or BENCHMARK_NOTIFY_TO); report email not sent');
          return;
        }
        await notifier.send({ report: JSON.parse(row.json) as ReportJson, csv: row.csv, recipients, messageId });
      },
    },
    stop: async () => notifier.close(),
  };
}

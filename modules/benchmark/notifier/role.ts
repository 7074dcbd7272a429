// The benchmark.notifier role: ReportCompleted → one email (or log line) per benchmark. The handler records the email
// to send; the send happens after the commit (mail-queue.ts), so a slow or hanging SMTP server holds no transaction
// and no other benchmark's email, and is retried by itself.
import type { Transaction } from 'kysely';
import { on } from '../../../kernel/bus/types.ts';
import type { RoleContext, RoleInstance } from '../../../kernel/module.ts';
import type { BenchmarkConfig } from '../config.ts';
import type { BenchmarkDB } from '../db.ts';
import { startSweep } from '../sweep.ts';
import { EVENTS } from '../contract.ts';
import type { ReportJson } from '../report-json.ts';
import { withMailLog } from './mail-log.ts';
import { createMailQueue } from './mail-queue.ts';
import { createNotifier, messageIdFor } from './notify.ts';
import { createNotifierStore } from './store.ts';

export function createNotifierRole(ctx: RoleContext<BenchmarkConfig, BenchmarkDB>): RoleInstance {
  const { config, log } = ctx;
  const store = createNotifierStore(ctx.db);
  const notifier = withMailLog(
    createNotifier({ smtpUrl: config.SMTP_URL, from: config.BENCHMARK_MAIL_FROM, timeoutMs: config.BENCHMARK_SMTP_TIMEOUT_MS, log }),
    config.BENCHMARK_MAIL_FROM,
  );
  const queue = createMailQueue({
    db: ctx.db,
    store,
    bus: ctx.bus,
    notifier,
    log,
    now: ctx.now,
    windowMs: config.BENCHMARK_MAIL_RETRY_MS,
    timeoutMs: config.BENCHMARK_SMTP_TIMEOUT_MS,
  });
  const notifyTo = (config.BENCHMARK_NOTIFY_TO ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

  const stopSweep = startSweep(config.BENCHMARK_SWEEP_MS, 'report email sweep', log, async () => {
    for (const id of await queue.due()) queue.kick(id);
  });

  return {
    console: {
      mail: () => notifier.mail(),
      actions: {
        // The console's "resend the email": the same way as the first one (recorded, sent after the commit, retried).
        async resend(id) {
          const b = await store.get(id);
          const row = await store.report(id);
          if (!b || !row) return 'nothing done: that benchmark has no report (yet)';
          const recipients = b.options.notify ?? notifyTo;
          if (notifier.via === 'log') {
            await notifier.send({ report: JSON.parse(row.json) as ReportJson, csv: row.csv, recipients, messageId: messageIdFor(id) });
            return 'logged again (no SMTP_URL); the Mail page shows it';
          }
          if (!recipients.length) return 'nothing done: no recipients (notify or BENCHMARK_NOTIFY_TO)';
          await ctx.db.transaction().execute((trx) => queue.enqueue(trx, id, recipients));
          queue.kick(id);
          return `queued for ${recipients.length} recipient(s); the Mail page shows the outcome`;
        },
      },
    },
    subscriptions: [
      on(EVENTS.ReportCompleted, async ({ payload: { benchmark_id: id } }, trx: Transaction<BenchmarkDB>, afterCommit) => {
        const b = await store.get(id, trx);
        const row = await store.report(id, trx);
        if (!b || !row || (await store.notified(id, trx))) return;
        const recipients = b.options.notify ?? notifyTo;
        if (notifier.via === 'smtp' && recipients.length) {
          await queue.enqueue(trx, id, recipients);
          afterCommit(() => queue.kick(id));
          return;
        }
        // A log line (no SMTP_URL) or nobody to write to: nothing leaves the process, so it is done here.
        await store.insertNotification(trx, id, { message_id: messageIdFor(id), via: notifier.via, recipients }, ctx.now().toISOString());
        if (notifier.via === 'smtp') log.warn({ benchmark: id }, 'no recipients (notify or BENCHMARK_NOTIFY_TO); report email not sent');
        else await notifier.send({ report: JSON.parse(row.json) as ReportJson, csv: row.csv, recipients, messageId: messageIdFor(id) });
      }),
    ],
    async stop() {
      stopSweep();
      // The sends under way get one SMTP timeout to finish; one cut short is sent again later, with the same Message-ID.
      await Promise.race([queue.drain(), new Promise((r) => setTimeout(r, config.BENCHMARK_SMTP_TIMEOUT_MS).unref())]);
      notifier.close();
    },
  };
}

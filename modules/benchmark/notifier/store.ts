// The notifier role's own reads and writes of the module's database: a benchmark's recipients and its report (both
// written by the api role), and the notifications row that records an email as sent.
import type { BenchmarkDatabase } from '../db.ts';

export function createNotifierStore(db: BenchmarkDatabase) {
  const on = (trx?: BenchmarkDatabase) => trx ?? db;
  return {
    /** The part of a benchmark the notifier reads: the recipients its start body named (`options.notify`). */
    async get(id: string, trx?: BenchmarkDatabase): Promise<{ options: { notify: string[] | null } } | undefined> {
      const row = await on(trx).selectFrom('benchmarks').select('options').where('id', '=', id).executeTakeFirst();
      return row ? { options: JSON.parse(row.options) } : undefined;
    },

    async report(id: string, trx?: BenchmarkDatabase): Promise<{ csv: string; json: string } | undefined> {
      return on(trx).selectFrom('reports').select(['csv', 'json']).where('benchmark_id', '=', id).executeTakeFirst();
    },

    async notified(id: string, trx?: BenchmarkDatabase): Promise<boolean> {
      return (await on(trx).selectFrom('notifications').select('benchmark_id').where('benchmark_id', '=', id).executeTakeFirst()) !== undefined;
    },

    async insertNotification(trx: BenchmarkDatabase, id: string, n: { message_id: string; via: string; recipients: string[] }, at: string): Promise<boolean> {
      const res = await trx
        .insertInto('notifications')
        .values({ benchmark_id: id, message_id: n.message_id, via: n.via, recipients: n.recipients.join(','), sent_at: at })
        .onConflict((oc) => oc.column('benchmark_id').doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}

export type NotifierStore = ReturnType<typeof createNotifierStore>;

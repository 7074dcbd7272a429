// The report emails still to send: a row per benchmark, written in the handler's transaction; the send happens after
// the commit, outside any transaction, and is retried with backoff over BENCHMARK_MAIL_RETRY_MS, then dead-lettered.
import { backoffDelay } from '../../../kernel/backoff.ts';
import type { Publisher } from '../../../kernel/bus/types.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { ReportJson } from '../report-json.ts';
import { EVENTS } from '../contract.ts';
import type { BenchmarkDatabase } from '../db.ts';
import { messageIdFor, type Notifier } from './notify.ts';
import type { NotifierStore } from './store.ts';

export interface MailQueueDeps {
  db: BenchmarkDatabase;
  store: NotifierStore;
  bus: Pick<Publisher, 'deadLetter'>;
  notifier: Notifier;
  log: Logger;
  now(): Date;
  /** How long an email is retried before it becomes a dead letter. */
  windowMs: number;
  /** The SMTP timeout: an attempt takes at most a few of them. */
  timeoutMs: number;
}

const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 300_000;

export function createMailQueue(deps: MailQueueDeps) {
  const { db, log } = deps;
  const sending = new Map<string, Promise<void>>();
  // An attempt's lease: longer than connect + greeting + a slow answer, so no second process sends meanwhile.
  const leaseMs = Math.max(60_000, 6 * deps.timeoutMs);

  /** One attempt to send `id`'s email, if it is due and no other process is sending it. */
  async function attempt(id: string): Promise<void> {
    const now = deps.now().getTime();
    // Claimed and read in one statement.
    const mail = await db
      .updateTable('pending_mail')
      .set({ next_attempt_ms: now + leaseMs })
      .where('benchmark_id', '=', id)
      .where('given_up_at', 'is', null)
      .where('next_attempt_ms', '<=', now)
      .returning(['recipients', 'attempts', 'first_attempt_ms'])
      .executeTakeFirst();
    if (!mail) return;
    const report = await deps.store.report(id);
    if (!report) return;
    const recipients = mail.recipients.split(',');
    try {
      await deps.notifier.send({ report: JSON.parse(report.json) as ReportJson, csv: report.csv, recipients, messageId: messageIdFor(id) });
    } catch (err) {
      await failed(id, mail, err);
      return;
    }
    await db.transaction().execute(async (trx) => {
      await deps.store.insertNotification(trx, id, { message_id: messageIdFor(id), via: 'smtp', recipients }, deps.now().toISOString());
      await trx.deleteFrom('pending_mail').where('benchmark_id', '=', id).execute();
    });
    log.info({ benchmark: id, attempts: mail.attempts + 1 }, 'report email sent');
  }

  async function failed(id: string, mail: { attempts: number; first_attempt_ms: number }, err: unknown): Promise<void> {
    const attempts = mail.attempts + 1;
    const now = deps.now().getTime();
    const error = err instanceof Error ? err.message : String(err);
    if (now - mail.first_attempt_ms < deps.windowMs) {
      const next = now + FIRST_RETRY_MS + backoffDelay(attempts - 1, FIRST_RETRY_MS, LAST_RETRY_MS);
      log.warn({ benchmark: id, attempts, err, retryInMs: next - now }, 'report email not sent; retrying');
      await db.updateTable('pending_mail').set({ attempts, next_attempt_ms: next, last_error: error }).where('benchmark_id', '=', id).execute();
      return;
    }
    await db.transaction().execute(async (trx: BenchmarkDatabase) => {
      await trx
        .updateTable('pending_mail')
        .set({ attempts, last_error: error, given_up_at: deps.now().toISOString() })
        .where('benchmark_id', '=', id)
        .execute();
      await deps.bus.deadLetter(trx, {
        consumer: 'benchmark.notifier',
        topic: EVENTS.ReportCompleted,
        payload: { benchmark_id: id },
        error: `report email not sent after ${attempts} attempts: ${error}`,
        attempts,
      });
    });
  }

  return {
    /** Records `id`'s email to send, in the handler's transaction; a given-up one (a replay) is armed again. */
    async enqueue(trx: BenchmarkDatabase, id: string, recipients: string[]): Promise<void> {
      const now = deps.now().getTime();
      const fresh = { attempts: 0, first_attempt_ms: now, next_attempt_ms: now, last_error: null, given_up_at: null };
      await trx
        .insertInto('pending_mail')
        .values({ benchmark_id: id, recipients: recipients.join(','), ...fresh })
        .onConflict((oc) => oc.column('benchmark_id').doUpdateSet(fresh).where('pending_mail.given_up_at', 'is not', null))
        .execute();
    },

    /** Sends `id`'s email now unless this process is sending it already. */
    kick(id: string): void {
      if (sending.has(id)) return;
      const p = attempt(id)
        .catch((err) => log.warn({ err, benchmark: id }, 'report email attempt failed; the sweep tries again'))
        .finally(() => sending.delete(id));
      sending.set(id, p);
    },

    /** Emails that are due (their retry time came, or their process crashed mid-attempt). */
    async due(limit = 100): Promise<string[]> {
      const rows = await db
        .selectFrom('pending_mail')
        .select('benchmark_id')
        .where('given_up_at', 'is', null)
        .where('next_attempt_ms', '<=', deps.now().getTime())
        .limit(limit)
        .execute();
      return rows.map((r) => r.benchmark_id);
    },

    /** Waits for the attempts under way. */
    drain: () => Promise.all(sending.values()).then(() => undefined),
  };
}

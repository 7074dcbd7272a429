// The report emails this process sent, tried to send, or only logged (no SMTP_URL), newest first, for the console's
// Mail page: a developer sees what a user would have received without running a mail catcher.
import type { ConsoleMail } from '../../../kernel/module.ts';
import { text, type Notification, type Notifier } from './notify.ts';

const KEEP = 200;

export function withMailLog(inner: Notifier, from: string): Notifier & { mail(): ConsoleMail[] } {
  const sent: ConsoleMail[] = [];
  const record = (n: Notification, outcome: ConsoleMail['outcome'], error?: string) => {
    sent.unshift({
      at: new Date().toISOString(),
      from,
      to: n.recipients,
      subject: `Benchmark Report: ${n.report.name}`,
      text: text(n.report),
      outcome,
      error,
      attachments: [`benchmark-${n.report.benchmark_id}.csv`],
    });
    sent.length = Math.min(sent.length, KEEP);
  };
  return {
    via: inner.via,
    async send(n) {
      try {
        await inner.send(n);
      } catch (err) {
        record(n, 'failed', err instanceof Error ? err.message : String(err));
        throw err;
      }
      record(n, inner.via);
    },
    close: () => inner.close(),
    mail: () => [...sent],
  };
}

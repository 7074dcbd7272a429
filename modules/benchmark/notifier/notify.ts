// The report notification: an email through SMTP (nodemailer) when SMTP_URL is set, else a log line (the original's log notifier).
import { createRequire } from 'node:module';
import type nodemailer from 'nodemailer';
import { assertOutsideTransaction } from '../../../db/transaction-guard.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { ReportJson } from '../api/report.ts';

export interface Notification {
  report: ReportJson;
  csv: string;
  recipients: string[];
  messageId: string;
}

export interface Notifier {
  via: 'smtp' | 'log';
  /** Throws when the SMTP server does not take the message (mail-queue.ts retries it). */
  send(n: Notification): Promise<void>;
  close(): void;
}

/** One Message-ID per benchmark, so a resend after a crash is recognisably the same message. */
export const messageIdFor = (benchmarkId: string) => `<benchmark-${benchmarkId}@cantons>`;

function text(r: ReportJson): string {
  const s = r.summary;
  const seconds = (v: number | null) => (v === null ? '–' : `${v.toFixed(3)} s`);
  return [
    `Benchmark ${r.name} (${r.benchmark_type}, ${r.target_infra}, Eigen ${r.target_eigen_platform_version}) ${r.status}${r.error ? `: ${r.error}` : ''}.`,
    `Thresholds: ${r.thresholds}.`,
    `Documents: ${s.completed} of ${s.count} completed, ${s.failed} failed.`,
    `Upload time: min ${seconds(s.min)}, mean ${seconds(s.mean)}, p50 ${seconds(s.p50)}, p95 ${seconds(s.p95)}, p99 ${seconds(s.p99)}, max ${seconds(s.max)}.`,
    'The CSV report is attached.',
  ].join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function createNotifier(opts: { smtpUrl?: string; from: string; timeoutMs: number; log: Logger }): Notifier {
  if (!opts.smtpUrl) {
    return {
      via: 'log',
      async send(n) {
        opts.log.info(
          {
            benchmark: n.report.benchmark_id,
            name: n.report.name,
            status: n.report.status,
            thresholds: n.report.thresholds,
            summary: n.report.summary,
            recipients: n.recipients,
          },
          `Benchmark Report: ${n.report.name}`,
        );
      },
      close() {},
    };
  }
  // Loaded only for SMTP: the log notifier (no SMTP_URL) never pays nodemailer's start-up.
  const mailer = createRequire(import.meta.url)('nodemailer') as typeof nodemailer;
  const transport = mailer.createTransport({
    url: opts.smtpUrl,
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
  });
  return {
    via: 'smtp',
    async send(n) {
      assertOutsideTransaction('an SMTP call');
      const body = text(n.report);
      await transport.sendMail({
        from: opts.from,
        to: n.recipients,
        subject: `Benchmark Report: ${n.report.name}`,
        messageId: n.messageId,
        text: body,
        html: `<p>${body.split('\n').map(esc).join('<br>')}</p>`,
        attachments: [{ filename: `benchmark-${n.report.benchmark_id}.csv`, content: n.csv, contentType: 'text/csv' }],
      });
    },
    close: () => transport.close(),
  };
}

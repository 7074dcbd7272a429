// The report notification: an email through SMTP (nodemailer) when SMTP_URL is set, else a log line (the original's log notifier).
import { createRequire } from 'node:module';
import type nodemailer from 'nodemailer';
import { assertOutsideTransaction } from '../../../db/transaction-guard.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { traced } from '../../../kernel/tracing/traced.ts';
import type { ReportJson } from '../report-json.ts';

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

/** The email's text (the log line and the console's Mail page show the same). */
export function text(r: ReportJson): string {
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
  // The server only: SMTP_URL may carry credentials.
  const server = new URL(opts.smtpUrl);
  const attributes = { 'server.address': server.hostname, ...(server.port ? { 'server.port': Number(server.port) } : {}) };
  return {
    via: 'smtp',
    async send(n) {
      assertOutsideTransaction('an SMTP call');
      const body = text(n.report);
      // A client span, a child of the step after the commit that sends it (or of the sweep's retry).
      await traced(
        'smtp send',
        'client',
        () =>
          transport.sendMail({
            from: opts.from,
            to: n.recipients,
            subject: `Benchmark Report: ${n.report.name}`,
            messageId: n.messageId,
            text: body,
            html: `<p>${body.split('\n').map(esc).join('<br>')}</p>`,
            attachments: [{ filename: `benchmark-${n.report.benchmark_id}.csv`, content: n.csv, contentType: 'text/csv' }],
          }),
        attributes,
      );
    },
    close: () => transport.close(),
  };
}

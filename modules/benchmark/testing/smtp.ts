// A real SMTP server (smtp-server) on a free port in the test process, recording every message it accepts.
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../../kernel/testing/index.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtp {
  url: string;
  port: number;
  mails: ReceivedMail[];
  /** While true every message is refused with 451 (the server is "down" for mail but still listening). */
  refuse: boolean;
  /** While true a connection is accepted and never greeted (the server hangs); set false, the next ones are served. */
  hang: boolean;
  close(): Promise<void>;
}

export async function startSmtp(port?: number): Promise<TestSmtp> {
  const p = port ?? (await freePort());
  const state: TestSmtp = {
    url: `smtp://127.0.0.1:${p}`,
    port: p,
    mails: [],
    refuse: false,
    hang: false,
    close: () =>
      new Promise<void>((resolve) => {
        for (const release of held) release();
        server.close(() => resolve());
      }),
  };
  // The greetings a hanging server withholds, released (refused) when it closes.
  const held: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      if (state.hang) held.push(() => callback(new Error('closing')));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.refuse) {
          callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
          return;
        }
        state.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => resolve());
  });
  return state;
}

// Structured logs (pino) with secrets redacted wherever they appear in a logged object.
import { pino, type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = ['password', 'secret', 'token', 'authorization', 'cookie', 'DATABASE_URL', 'EVENT_BUS_URL', 'REDIS_URL', 'ETCD_PASSWORD', 'SMTP_URL'];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const paths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`]);
  return pino({ level, base: { pid: process.pid }, redact: { paths, censor: '[redacted]' } }, destination);
}

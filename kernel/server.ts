// Listens, then drains on SIGTERM/SIGINT: stop accepting, finish in-flight requests, flush, close, exit.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kernel } from './bootstrap.ts';

export interface Running {
  server: Server;
  port: number;
  /** Graceful stop; resolves true when everything finished within SHUTDOWN_TIMEOUT_MS. */
  shutdown(): Promise<boolean>;
}

export async function listen(kernel: Kernel, port = kernel.config.PORT, host = kernel.config.HOST): Promise<Running> {
  const server = createServer(kernel.app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  let stopping: Promise<boolean> | undefined;

  async function drain(): Promise<boolean> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle keep-alive sockets would hold close() open; in-flight requests finish and then their sockets go idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    const budget = kernel.config.SHUTDOWN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), budget)));
    const finished = (async () => {
      await closed;
      await kernel.close();
      return true;
    })();
    const ok = await Promise.race([finished, timedOut]);
    clearInterval(sweep);
    clearTimeout(timer);
    if (!ok) server.closeAllConnections();
    return ok;
  }

  return {
    server,
    port: actual,
    shutdown: () => (stopping ??= drain()),
  };
}

/** Wires SIGTERM/SIGINT to a graceful shutdown and process exit (0 when drained within budget, 1 otherwise). */
export function exitOnSignals(running: Running, log: Kernel['log']): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, async () => {
      log.info({ signal }, 'shutting down');
      const ok = await running.shutdown();
      log.info({ ok }, ok ? 'shutdown complete' : 'shutdown budget exceeded');
      process.exit(ok ? 0 : 1);
    });
  }
}

// Listens (PORT, and RPC_PORT for /rpc when set), then drains on SIGTERM/SIGINT: stop accepting, close idle
// connections at once, give in-flight requests the budget, always close the kernel (flush, stop roles, close databases), exit.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Kernel } from './bootstrap.ts';
import { errors, type AppError } from './errors.ts';
import { INTERNAL_LISTENER } from './http/auth.ts';
import { StartupError } from './config.ts';

export interface Running {
  server: Server;
  port: number;
  /** The internal listener's port when RPC_PORT is set: /rpc is served there and only there. */
  rpcPort?: number;
  /** Graceful stop; resolves true when everything finished within SHUTDOWN_TIMEOUT_MS. */
  shutdown(): Promise<boolean>;
}

/** What Node's parser refused, as the catalogue's error: the status Node itself would have sent. */
function parseFailure(err: NodeJS.ErrnoException): AppError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return errors.HEADERS_TOO_LARGE('The request line or headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errors.REQUEST_TIMEOUT('The request did not arrive in time');
    default:
      return errors.BAD_REQUEST(`Malformed HTTP request (${err.code ?? 'parse error'})`);
  }
}

/** A complete, closing HTTP/1.1 response with the catalogue's JSON body, for a socket Node gave up parsing. */
export function rawErrorResponse(failure: AppError): string {
  const body = JSON.stringify({ error: failure.code, message: failure.message });
  return (
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

// Past the budget the kernel still closes (the outbox is flushed, databases closed): it gets at least this long.
const CLOSE_GRACE_MS = 2000;

function within<T>(promise: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout), ms)))]).finally(() => clearTimeout(timer));
}

interface Tracked {
  server: Server;
  /** Its open sockets. */
  sockets: Set<Socket>;
  release(socket: Socket): void;
}

/** The response a socket is writing now (Node's own link; without pipelining, a socket's only one). */
const responseOf = (socket: Duplex) => (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;

/**
 * Our answers to what Node would answer with an empty body, and the open sockets, so that shutdown closes one with
 * nothing to finish (never used, idle keep-alive, headers half-sent) at once instead of waiting for its timeout.
 */
function harden(server: Server, log: Kernel['log']): Tracked {
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const responding = responseOf(socket);
    if (err.code === 'ECONNRESET' || !socket.writable || responding?.headersSent) {
      socket.destroy();
      return;
    }
    log.debug({ code: err.code }, 'malformed request refused');
    socket.end(rawErrorResponse(parseFailure(err)));
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const failure = errors.EXPECTATION_FAILED(`Expect: ${String(req.headers.expect).slice(0, 100)} is not supported; only 100-continue is`);
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
    res.end(JSON.stringify(failure.toBody()));
  });
  // Only the open sockets: whether one is answering is Node's own link (responseOf), read at shutdown. Nothing is
  // kept per request — a long-lived Set that every response passed through kept a third of the young generation
  // alive under load (docs/benchmarks.md), and a per-request listener cost every request for the sake of one stop.
  const sockets = new Set<Socket>();
  const release = (socket: Socket) => (socket.writableLength ? socket.end() : socket.destroy());
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return { server, sockets, release };
}

/** Listens; a port taken by another process is one line naming the setting to change (cli.ts prints it, no stack). */
function listenOn(server: Server, port: number, host: string, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new StartupError([`port ${port} is in use (HOST ${host}); set ${setting} to another port`]) : err),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function listen(kernel: Kernel, port = kernel.config.PORT, host = kernel.config.HOST): Promise<Running> {
  const log = kernel.log;
  let stopping: Promise<boolean> | undefined;
  const callback = kernel.app.callback();
  // Node's own Host check would answer 400 with an empty body; the app checks Host instead (kernel/http/app.ts).
  const servers = [harden(createServer({ requireHostHeader: false }, callback), log)];
  const actual = await listenOn(servers[0].server, port, host, 'PORT');
  kernel.address = { host, port: actual };
  let rpcPort: number | undefined;
  if (kernel.config.RPC_PORT !== undefined) {
    // The same app; requests from this listener are marked, and only /rpc (and the probes) answer there.
    const internal = createServer({ requireHostHeader: false }, (req, res) => {
      (req as IncomingMessage & { [INTERNAL_LISTENER]?: boolean })[INTERNAL_LISTENER] = true;
      return callback(req, res);
    });
    servers.push(harden(internal, log));
    try {
      rpcPort = await listenOn(internal, kernel.config.RPC_PORT, kernel.config.RPC_HOST ?? host, 'RPC_PORT');
      log.info({ url: `http://${kernel.config.RPC_HOST ?? host}:${rpcPort}` }, 'listening for /rpc (internal)');
    } catch (err) {
      servers[0].server.close();
      throw err;
    }
  }

  async function drain(): Promise<boolean> {
    const started = Date.now();
    const budget = kernel.config.SHUTDOWN_TIMEOUT_MS;
    const closed = Promise.all(servers.map((t) => new Promise<void>((resolve) => t.server.close(() => resolve())))).then(() => true);
    // A request that arrives from now on is its connection's last; one answering now gets the same header.
    for (const t of servers) {
      t.server.on('request', (_req: IncomingMessage, res: ServerResponse) => res.setHeader('connection', 'close'));
      for (const socket of t.sockets) {
        const res = responseOf(socket);
        if (res && !res.headersSent) res.setHeader('connection', 'close');
      }
    }
    // A socket with no response under way (never used, idle keep-alive, headers half-sent) closes now; the rest as
    // they finish, or when the peer never answered our end().
    const sweep = () => {
      for (const t of servers) for (const socket of t.sockets) if (!responseOf(socket)) t.release(socket);
    };
    sweep();
    const sweeper = setInterval(sweep, 50);
    const drained = await within(closed, budget, false);
    clearInterval(sweeper);
    if (!drained) {
      const running = servers.reduce((n, t) => n + [...t.sockets].filter((socket) => responseOf(socket)).length, 0);
      log.warn({ inFlight: running, budgetMs: budget }, 'requests still running at the end of the shutdown budget; closing their connections');
      for (const t of servers) {
        for (const socket of t.sockets) socket.destroy();
        t.server.closeAllConnections();
      }
    }
    // Always: a slow client must not cost the outbox its flush or the databases their close.
    const closing = kernel.close().then(
      () => true,
      (err: unknown) => {
        log.error({ err }, 'kernel close failed');
        return false;
      },
    );
    const kernelClosed = await within(closing, Math.max(budget - (Date.now() - started), CLOSE_GRACE_MS), false);
    if (!kernelClosed) log.warn('kernel close did not finish in time');
    return drained && kernelClosed;
  }

  return {
    server: servers[0].server,
    port: actual,
    rpcPort,
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

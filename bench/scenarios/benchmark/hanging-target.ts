// A target that accepts connections and never answers: the peer that, before the benchmark module called targets after
// its commits, held SQLite's write lock for a whole HTTP timeout. It counts its connections, so a round can prove a
// request to it was hanging the whole time (its premise) before reporting a number.
import { createServer, type Socket } from 'node:net';

export interface HangingTarget {
  /** `127.0.0.1:<port>`, as a start body's target_url names a target. */
  address: string;
  /** Connections accepted so far. */
  accepted(): number;
  /** Of those, still open: requests still waiting for an answer (a client that timed out has closed its own). */
  open(): number;
  close(): Promise<void>;
}

export async function hangingTarget(): Promise<HangingTarget> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // a client giving up may reset: expected, nothing to report
    socket.resume(); // read and drop the request, so the client's writes never back up
  });
  // Port 0: the kernel picks a free port, with no window for another process to take it.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

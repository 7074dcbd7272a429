// Test helper: a TCP proxy in front of etcd that can stall (a lagging client) or cut connections (a partition).
import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  url: string;
  /** Stops passing server → client bytes: the client falls behind while etcd keeps writing. */
  stall(): void;
  resume(): void;
  /** Destroys every open connection (new ones are still accepted). */
  cut(): void;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let stalled = false;
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    // Not pipe(): pipe resumes the source on 'drain', which would end a stall.
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => {
      if (!stalled) upstream.resume();
    });
    if (stalled) upstream.pause();
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const cut = () => {
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    stall() {
      stalled = true;
      for (const [, upstream] of pairs) upstream.pause();
    },
    resume() {
      stalled = false;
      for (const [, upstream] of pairs) upstream.resume();
    },
    cut,
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Bench helper: a round-robin TCP (L4) balancer over several instances, one backend per client connection.
import { connect, createServer, type Socket } from 'node:net';

export interface Balancer {
  url: string;
  /** Connections handed to each backend so far. */
  counts: number[];
  close(): Promise<void>;
}

/**
 * Like an L4 load balancer (IPVS, an NLB, HAProxy in tcp mode): each new connection goes to the next
 * backend; a keep-alive connection stays on its backend for all its requests.
 */
export async function startBalancer(backends: string[]): Promise<Balancer> {
  const targets = backends.map((u) => new URL(u));
  const counts = targets.map(() => 0);
  const sockets = new Set<Socket>();
  let next = 0;
  const server = createServer({ noDelay: true }, (client) => {
    const i = next++ % targets.length;
    counts[i]++;
    const upstream = connect({ host: targets[i].hostname, port: Number(targets[i].port), noDelay: true });
    sockets.add(client).add(upstream);
    client.pipe(upstream).on('error', () => client.destroy());
    upstream.pipe(client).on('error', () => upstream.destroy());
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

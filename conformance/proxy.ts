// The two front doors of a local topology, standing in for what a deployment puts before its processes:
// - `balancer`: a TCP round-robin balancer (a connection to each upstream in turn, as kube-proxy or HAProxy's
//   tcp mode do) in front of a service's replicas, for role calls over HTTP and gRPC alike;
// - `gateway`: the one public entry, an HTTP proxy that sends each request to the processes whose
//   /openapi.json has its method and path, taking them in turn.
import { Agent, createServer as createHttpServer, request, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type Server as TcpServer } from 'node:net';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

function listen(server: Server | TcpServer, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function closer(server: Server | TcpServer, sockets: Set<{ destroy(): void }>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/** A TCP balancer on `port`: each connection goes to the next of `upstreams` (ports on 127.0.0.1). */
export async function balancer(port: number, upstreams: number[]): Promise<Listening> {
  let next = 0;
  const sockets = new Set<{ destroy(): void }>();
  const server = createTcpServer((client) => {
    const upstream = connect(upstreams[next++ % upstreams.length], '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    // A reset on one side closes the other, as a balancer does; the error itself is the peers' business.
    client.once('error', () => upstream.destroy());
    upstream.once('error', () => client.destroy());
  });
  return { port: await listen(server, port), close: closer(server, sockets) };
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Base URLs of the processes that serve the path. */
  upstreams: string[];
  next: number;
}

/** `/events/{kind}/at/{index}` → a RegExp matching its paths; a parameter at the end may hold slashes (`/config/{key}`). */
const pathPattern = (path: string) =>
  new RegExp(
    `^${path
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{[^}]+\}$/, '.+')
      .replace(/\{[^}]+\}/g, '[^/]+')}/?$`,
  );

export interface GatewayProcess {
  /** Its service, and replica number when there are several. */
  name: string;
  /** MODULES it runs; empty: all. */
  modules: string;
  url: string;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** GET /console on the gateway: every process of the topology, its roles, whether it is ready, and a link to its own console. */
async function consoleIndex(processes: GatewayProcess[]): Promise<string> {
  const ready = await Promise.all(
    processes.map((p) =>
      fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      ),
    ),
  );
  const rows = processes.map(
    (p, i) =>
      `<tr><td>${esc(p.name)}</td><td>${esc(p.modules || 'every module')}</td><td>${ready[i] ? 'ready' : '<b>not ready</b>'}</td><td><a href="${esc(p.url)}/console">${esc(p.url)}/console</a></td></tr>`,
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cantons: every process</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style></head>
<body><h1>Every process of this topology</h1><p>Each process's own console shows its roles, bus, traces, modules and mail.</p>
<table><tr><th>process</th><th>MODULES</th><th>/readyz</th><th>console</th></tr>${rows.join('')}</table></body></html>`;
}

/**
 * The public entry of a topology on a free port. `processes` are the base URLs of every process with a public
 * port; a path served by several (replicas, cache instances) is sent to each in turn. Paths no process
 * documents answer 404 here, as they would on any of them. `/console` lists every process with a link to its console.
 */
export async function gateway(processes: GatewayProcess[]): Promise<Listening & { url: string }> {
  const routes = new Map<string, Route>();
  for (const { url: base } of processes) {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, operations] of Object.entries(doc.paths)) {
      // By method too: events' receiver takes POST /events/snow-reports, its storage answers GET.
      for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
        const key = `${method} ${path}`;
        const route = routes.get(key) ?? { method, pattern: pathPattern(path), upstreams: [], next: 0 };
        route.upstreams.push(base);
        routes.set(key, route);
      }
    }
  }
  // Literal paths first, so `/orders/stats` is not taken for `/orders/{id}`; then the longest, so
  // `/events/{kind}/at/{index}` is not taken for `/events/{kind}`.
  const rank = (key: string) => (key.includes('{') ? 1000 : 0) - key.split('/').length;
  const table = [...routes.entries()].sort(([a], [b]) => rank(a) - rank(b)).map(([, r]) => r);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const sockets = new Set<{ destroy(): void }>();
  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    // HEAD is GET without the body; a preflight goes where the request it asks about would.
    const method = req.method === 'HEAD' ? 'GET' : req.method === 'OPTIONS' ? (req.headers['access-control-request-method'] ?? 'GET') : req.method;
    if (path === '/console' && method === 'GET') {
      void consoleIndex(processes).then((page) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page));
      return;
    }
    const route = table.find((r) => r.method === method && r.pattern.test(path)) ?? table.find((r) => r.pattern.test(path));
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'NOT_FOUND', message: `no process serves ${path}` }));
      return;
    }
    const upstream = new URL(route.upstreams[route.next++ % route.upstreams.length]);
    const forwarded = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    // The process's address stays behind the gateway: the client learns which path failed, not where it went.
    forwarded.once('error', () => {
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(502, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'BAD_GATEWAY', message: `no answer from the process serving ${path}` }));
    });
    req.pipe(forwarded);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  const close = closer(server, sockets);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      agent.destroy();
      await close();
    },
  };
}

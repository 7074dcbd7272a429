// A local OTLP/HTTP JSON receiver that keeps the spans it is sent (name and duration): how the scale scenario reads a
// cache instance's first list (its "etcd resync" span) without guessing it from the process's start-up.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SpanRecord {
  name: string;
  durationMs: number;
}

export interface SpanSink {
  url: string;
  spans: SpanRecord[];
  /** Resolves the first span called `name` that arrives (or has arrived), or rejects after `timeoutMs`. */
  waitFor(name: string, timeoutMs?: number): Promise<SpanRecord>;
  close(): Promise<void>;
}

export async function startSpanSink(): Promise<SpanSink> {
  const spans: SpanRecord[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      try {
        const data = JSON.parse(body) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: any[] }> }> };
        for (const rs of data.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? []) spans.push({ name: s.name, durationMs: Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6 });
      } catch {
        // not JSON (a protobuf export): nothing to keep
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    async waitFor(name, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = spans.find((s) => s.name === name);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no span "${name}" within ${timeoutMs} ms (got ${[...new Set(spans.map((s) => s.name))].join(', ') || 'none'})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

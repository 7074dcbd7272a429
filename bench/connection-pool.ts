// Keep-alive HTTP/1.1 connections for the load generator, written straight to the socket.
//
// Why not node:http: its client spends ≈ 170 µs of CPU per request on this project's 2-core VMs
// (undici ≈ 130), more than the bare Koa server it measures (≈ 145), so every server looked as fast
// as the client. This one writes a request in one string and parses only what a benchmark needs
// (status, headers, a content-length or chunked body): ≈ 65 µs, and the server is the bottleneck.
import net from 'node:net';
import tls from 'node:tls';

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
}

interface Waiting {
  resolve(res: RawResponse): void;
  reject(err: Error): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');

class ProtocolError extends Error {
  code = 'EPROTO';
}

/** One socket and the response it is reading; one request at a time (no pipelining). */
class Connection {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: Waiting | undefined;
  private head: { status: number; headers: Record<string, string> } | undefined;
  private chunks: Buffer[] = [];
  private noBody = false;
  closed = false;

  constructor(base: URL, onClose: (c: Connection) => void) {
    const port = Number(base.port || (base.protocol === 'https:' ? 443 : 80));
    this.socket =
      base.protocol === 'https:'
        ? tls.connect({ host: base.hostname, port, servername: net.isIP(base.hostname) ? undefined : base.hostname })
        : net.connect({ host: base.hostname, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (data: Buffer) => this.read(data));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      this.closed = true;
      this.fail(Object.assign(new Error('socket closed before the response ended'), { code: 'ECONNRESET' }));
      onClose(this);
    });
  }

  send(request: string, payload: Buffer | undefined, noBody: boolean): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.noBody = noBody;
      this.socket.ref();
      this.socket.write(payload ? Buffer.concat([Buffer.from(request, 'latin1'), payload]) : request, 'latin1');
    });
  }

  fail(err: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private read(data: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
    try {
      this.parse();
    } catch (err) {
      this.fail(err as Error);
      this.destroy();
    }
  }

  private parse(): void {
    if (!this.head) {
      const end = this.buffer.indexOf(HEAD_END);
      if (end < 0) return;
      const lines = this.buffer.toString('latin1', 0, end).split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
      if (!status) throw new ProtocolError(`not an HTTP/1.1 status line: ${lines[0].slice(0, 80)}`);
      const headers: Record<string, string> = {};
      for (let i = 1; i < lines.length; i++) {
        const colon = lines[i].indexOf(':');
        if (colon <= 0) continue;
        const name = lines[i].slice(0, colon).trim().toLowerCase();
        const value = lines[i].slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      this.head = { status: Number(status[1]), headers };
      this.buffer = this.buffer.subarray(end + HEAD_END.length);
    }
    const { status, headers } = this.head;
    let body: Buffer | undefined;
    if (this.noBody || status === 204 || status === 304 || (status >= 100 && status < 200)) body = Buffer.alloc(0);
    else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) body = this.chunked();
    else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) throw new ProtocolError(`bad content-length ${headers['content-length']}`);
      if (this.buffer.length < length) return;
      body = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
    } else throw new ProtocolError('response has neither content-length nor chunked encoding');
    if (!body) return;
    this.head = undefined;
    const w = this.waiting;
    this.waiting = undefined;
    if (headers.connection?.toLowerCase() === 'close') this.destroy();
    w?.resolve({ status, headers, text: body.toString('utf8') });
  }

  /** The whole chunked body once its last chunk is in, else undefined (what was read so far is kept). */
  private chunked(): Buffer | undefined {
    for (;;) {
      const line = this.buffer.indexOf('\r\n');
      if (line < 0) return undefined;
      const size = parseInt(this.buffer.toString('latin1', 0, line), 16);
      if (!Number.isSafeInteger(size) || size < 0) throw new ProtocolError('bad chunk size');
      if (size === 0) {
        // The last chunk, then optional trailer lines, then an empty line.
        const end = this.buffer.indexOf(HEAD_END, line);
        if (end < 0) return undefined;
        this.buffer = this.buffer.subarray(end + HEAD_END.length);
        const body = Buffer.concat(this.chunks);
        this.chunks = [];
        return body;
      }
      if (this.buffer.length < line + 2 + size + 2) return undefined;
      this.chunks.push(this.buffer.subarray(line + 2, line + 2 + size));
      this.buffer = this.buffer.subarray(line + 2 + size + 2);
    }
  }
}

/** Up to `maxSockets` kept-alive connections to one origin; a request waits when all are busy. */
export class ConnectionPool {
  private readonly all = new Set<Connection>();
  private readonly idle: Connection[] = [];
  private readonly queue: ((c: Connection) => void)[] = [];
  private open = 0;
  private destroyed = false;

  constructor(
    readonly base: URL,
    readonly maxSockets = Infinity,
  ) {}

  async request(method: string, path: string, headers: Record<string, string | number>, payload: Buffer | undefined, timeoutMs: number): Promise<RawResponse> {
    if (this.destroyed) throw Object.assign(new Error('connection pool destroyed'), { code: 'ECONNABORTED' });
    let text = `${method} ${path} HTTP/1.1\r\nhost: ${this.base.host}\r\n`;
    for (const name in headers) text += `${name}: ${headers[name]}\r\n`;
    if (payload) text += `content-length: ${payload.length}\r\n`;
    text += '\r\n';
    const conn = await this.acquire();
    const timer = setTimeout(() => {
      conn.fail(Object.assign(new Error(`no response within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      conn.destroy();
    }, timeoutMs);
    try {
      return await conn.send(text, payload, method === 'HEAD');
    } finally {
      clearTimeout(timer);
      this.release(conn);
    }
  }

  /** Closes every connection; requests in flight fail with ECONNRESET. */
  destroy(): void {
    this.destroyed = true;
    this.idle.length = 0;
    for (const c of this.all) c.destroy();
  }

  private acquire(): Promise<Connection> {
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.open < this.maxSockets) return Promise.resolve(this.connect());
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(conn: Connection): void {
    if (conn.closed) return; // `closed` hands its slot on
    const next = this.queue.shift();
    if (next) {
      next(conn);
      return;
    }
    // An idle socket must not keep the process alive.
    conn.socket.unref();
    this.idle.push(conn);
  }

  private closed(conn: Connection): void {
    if (!this.all.delete(conn)) return;
    this.open--;
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    const next = this.queue.shift();
    if (next && !this.destroyed) next(this.connect());
  }

  private connect(): Connection {
    this.open++;
    const conn = new Connection(this.base, (c) => this.closed(c));
    this.all.add(conn);
    return conn;
  }
}

// Test support: HTTP below fetch — any method (fetch refuses TRACE and friends), and raw bytes on a socket.
import { request } from 'node:http';
import { connect } from 'node:net';

export interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Any method node:http can send (fetch refuses TRACE and friends). */
export function rawRequest(url: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes on a fresh socket; resolves what came back before the server closed it (or after `waitMs`). */
export function rawSocket(port: number, bytes: string | Buffer, waitMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => {});
    const timer = setTimeout(() => s.destroy(), waitMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.write(bytes);
  });
}

// The load generator's own HTTP/1.1 connections against a raw TCP server that answers byte by byte as told.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ConnectionPool } from './connection-pool.ts';

let server: net.Server;
let base: URL;
let connections = 0;
let busiest = 0; // most requests being answered at once
let answering = 0;

/** Each request path names the answer; pieces are written 5 ms apart to split them across reads. */
const ANSWERS: Record<string, string[]> = {
  '/length': ['HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":', '"bcd"}'],
  '/chunked': [
    'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n4\r\n{"a"',
    '\r\n3\r\n:1}\r\n0\r\nTrailer: x\r\n',
    '\r\n',
  ],
  '/empty': ['HTTP/1.1 204 No Content\r\n\r\n'],
  '/close': ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'],
  '/garbage': ['SMTP ready\r\n\r\n'],
  '/silent': [],
};

before(async () => {
  server = net.createServer((socket) => {
    connections++;
    let pending = '';
    socket.on('data', async (data) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        pending = pending.slice(end + 4 + length);
        const path = head.split(' ')[1];
        busiest = Math.max(busiest, ++answering);
        const pieces = ANSWERS[path] ?? [];
        for (let i = 0; i < pieces.length; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 5));
          if (i === pieces.length - 1) answering--; // the client may send its next request once this is out
          socket.write(pieces[i]);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

after(() => server.close());

test('reads content-length and chunked bodies split across reads, headers lower-cased and joined', async () => {
  const pool = new ConnectionPool(base, 1);
  try {
    const a = await pool.request('GET', '/length', {}, undefined, 2000);
    assert.deepEqual([a.status, a.text, a.headers['content-type']], [200, '{"a":"bcd"}', 'application/json']);
    const b = await pool.request('POST', '/chunked', { 'content-type': 'application/json' }, Buffer.from('{"x":1}'), 2000);
    assert.deepEqual([b.status, b.text, b.headers['x-twice']], [201, '{"a":1}', '1, 2']);
    const c = await pool.request('DELETE', '/empty', {}, undefined, 2000);
    assert.deepEqual([c.status, c.text], [204, '']);
    assert.equal(connections, 1, 'one kept-alive socket served all three');
  } finally {
    pool.destroy();
  }
});

test('never opens more than maxSockets; a closed connection is replaced for the next request', async () => {
  const pool = new ConnectionPool(base, 2);
  connections = 0;
  busiest = 0;
  try {
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.request('GET', i % 3 ? '/length' : '/close', {}, undefined, 2000)));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.equal(busiest, 2, 'two requests at a time, never more');
    assert.ok(connections >= 3, 'the server closed two, so new ones were opened');
  } finally {
    pool.destroy();
  }
});

test('a timeout, a broken response and a destroyed pool fail with a code', async () => {
  const pool = new ConnectionPool(base, 1);
  await assert.rejects(pool.request('GET', '/silent', {}, undefined, 100), { code: 'ETIMEDOUT' });
  await assert.rejects(pool.request('GET', '/garbage', {}, undefined, 2000), { code: 'EPROTO' });
  assert.equal((await pool.request('GET', '/length', {}, undefined, 2000)).status, 200, 'a fresh socket after the broken one');
  pool.destroy();
  await assert.rejects(pool.request('GET', '/length', {}, undefined, 2000), { code: 'ECONNABORTED' });
  const refused = new ConnectionPool(new URL('http://127.0.0.1:1'));
  await assert.rejects(refused.request('GET', '/', {}, undefined, 2000), { code: 'ECONNREFUSED' });
});

// Request forgery through target_url, refused: metadata and link-local addresses, loopback on a public HOST, names that
// resolve there; a DNS answer that changes after the check cannot move the connection; this process's key goes only
// to the address it listens on. Real servers on loopback addresses; the resolver is the test's own.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../kernel/testing/index.ts';
import { createTargetClient, TargetError } from './api/target-client.ts';
import { createTargetPolicy, type LookupAll, targetListProblems } from './target-policy.ts';
import { startBenchmarkApp, startBody } from './testing/support.ts';

const allowed = async (url: string, opts: { targets?: string; host?: string; port?: number; lookup?: LookupAll } = {}) =>
  (await createTargetPolicy({ host: '0.0.0.0', port: 8080, ...opts }).resolve(new URL(url))) !== undefined;

/** A resolver that answers from a table, and counts what it was asked. */
function resolver(table: Record<string, string[]>) {
  const asked: string[] = [];
  const lookup: LookupAll = async (name) => {
    asked.push(name);
    const next = table[name]?.length ? (table[name].length > 1 ? table[name].shift()! : table[name][0]) : undefined;
    if (!next) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return [{ address: next, family: next.includes(':') ? 6 : 4 }];
  };
  return { lookup, asked };
}

describe('benchmark target policy', () => {
  it('metadata and link-local addresses are refused, even under a range that covers everything, unless named', async () => {
    for (const target of [
      'http://169.254.169.254/',
      'http://169.254.1.1:80/',
      'http://[fe80::1]/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
      'http://[::ffff:169.254.169.254]/',
    ]) {
      assert.equal(await allowed(target, { host: '127.0.0.1' }), false, `${target} by default`);
      assert.equal(await allowed(target, { targets: '0.0.0.0/0,::/0' }), false, `${target} under 0.0.0.0/0`);
    }
    assert.ok(await allowed('http://169.254.169.254/', { targets: '169.254.169.254' }), 'named as an address');
    assert.ok(await allowed('http://169.254.10.10:8000/', { targets: '169.254.0.0/16' }), 'named as its own range');
    assert.ok(!(await allowed('http://169.254.10.10:8000/', { targets: '169.0.0.0/8' })), 'a wider range does not name it');
    const { lookup } = resolver({ 'metadata.test': ['169.254.169.254'] });
    assert.ok(!(await allowed('http://metadata.test/', { targets: '0.0.0.0/0', lookup })), 'nor a name that resolves there');
  });

  it('loopback: allowed when HOST is loopback; on a public HOST only this process or what is listed', async () => {
    assert.ok(await allowed('http://127.0.0.1:9999/', { host: '127.0.0.1' }));
    assert.ok(await allowed('http://localhost:9999/', { host: '127.0.0.1' }));
    assert.ok(!(await allowed('http://10.1.2.3:80/', { host: '127.0.0.1' })), 'not another network');
    assert.ok(!(await allowed('http://127.0.0.1:9999/', { host: '0.0.0.0' })), 'loopback on a public HOST');
    assert.ok(!(await allowed('http://0.0.0.0:9999/', { host: '0.0.0.0' })), '0.0.0.0 reaches this machine too');
    assert.ok(await allowed('http://127.0.0.1:8080/target', { host: '0.0.0.0', port: 8080 }), 'the built-in target');
    assert.ok(await allowed('http://127.0.0.1:9999/', { host: '0.0.0.0', targets: '127.0.0.1:9999' }), 'listed with its port');
    assert.ok(!(await allowed('http://127.0.0.1:9998/', { host: '0.0.0.0', targets: '127.0.0.1:9999' })), 'another port');
    assert.ok(!(await allowed('http://127.0.0.1:9999/', { host: '127.0.0.1', targets: '10.0.0.0/8' })), 'a list replaces the loopback default');
    assert.ok(await allowed('http://10.9.9.9/', { targets: '10.0.0.0/8' }));
    const { lookup } = resolver({ 'eigen.test': ['10.0.0.7'] });
    assert.ok(await allowed('http://eigen.test:8000/', { targets: 'eigen.test', lookup }), 'a listed name');
    assert.ok(!(await allowed('http://eigen.test:8000/', { targets: 'eigen.test:9000', lookup })), 'a listed name at another port');
    assert.ok(!(await allowed('http://nowhere.test/', { targets: '0.0.0.0/0', lookup })), 'a name that does not resolve');
    assert.ok(!(await allowed('ftp://127.0.0.1/', { host: '127.0.0.1' })), 'not HTTP');
  });

  it('a bad BENCHMARK_TARGETS entry is named', () => {
    assert.deepEqual(targetListProblems('10.0.0.0/8, eigen.test:8000, [::1]:80, 10.0.0.0/40, http://x, host:99999'), [
      '10.0.0.0/40: not a CIDR range',
      'http://x: not a host, host:port, address or CIDR range',
      'host:99999: not a host, host:port, address or CIDR range',
    ]);
  });
});

describe('benchmark target policy on real connections', () => {
  // Two servers on one port, at 127.0.0.1 and 127.0.0.2: the second is "another process at a look-alike address".
  const seen: Record<string, IncomingHttpHeaders[]> = { '127.0.0.1': [], '127.0.0.2': [] };
  const servers: ReturnType<typeof createServer>[] = [];
  let port = 0;
  before(async () => {
    port = await freePort();
    for (const address of Object.keys(seen)) {
      const server = createServer((req, res) => {
        seen[address].push(req.headers);
        req.resume();
        if (req.url?.startsWith('/redirect/')) {
          res.writeHead(307, { location: `http://127.0.0.2:${port}/auth/v1/token/` }).end();
          return;
        }
        res.setHeader('content-type', 'application/json');
        if (req.url === '/auth/v1/token/') res.setHeader('set-cookie', 'fakesession=abc; Path=/');
        res.end(JSON.stringify({ document_type_id: 7 }));
      });
      await new Promise<void>((r) => server.listen(port, address, r));
      servers.push(server);
    }
  });
  after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  const client = (baseUrl: string, policy: ReturnType<typeof createTargetPolicy>) =>
    createTargetClient({
      baseUrl,
      username: 'u',
      password: 'p',
      timeoutMs: 2000,
      retries: 0,
      policy,
      apiKey: (own) => (own ? 'OWN-KEY-0123456789abcdef' : undefined),
    });

  it('DNS that answers another address after the check cannot move the connection', async () => {
    for (const s of Object.values(seen)) s.length = 0;
    // Checked at 127.0.0.1 (listed); every later answer is 127.0.0.2, which is not.
    const dns = resolver({ 'rebind.test': ['127.0.0.1', '127.0.0.2'] });
    const policy = createTargetPolicy({ host: '0.0.0.0', port: 1, targets: '127.0.0.1', lookup: dns.lookup });
    const c = client(`http://rebind.test:${port}`, policy);
    try {
      assert.equal(await c.createProject('p', 'latency'), '7');
      assert.equal(seen['127.0.0.1'].length, 2, 'login and project, both at the checked address');
      assert.equal(seen['127.0.0.2'].length, 0);
      assert.equal(dns.asked.length, 1, 'resolved once');
      assert.equal(seen['127.0.0.1'][0].host, `rebind.test:${port}`, 'the Host header is still the name');
    } finally {
      await c.close();
    }
    // A new client resolves again and gets 127.0.0.2: refused before any connection.
    const again = client(`http://rebind.test:${port}`, policy);
    await assert.rejects(again.createProject('p', 'latency'), (err: unknown) => err instanceof TargetError && err.message === 'login: the target call failed');
    assert.equal(seen['127.0.0.2'].length, 0);
  });

  it('a redirect is not followed: the hop it names is never called', async () => {
    for (const s of Object.values(seen)) s.length = 0;
    const policy = createTargetPolicy({ host: '127.0.0.1', port: 1 });
    const c = client(`http://127.0.0.1:${port}/redirect`, policy);
    await assert.rejects(c.createProject('p', 'latency'), (err: unknown) => err instanceof TargetError && err.message === 'login: the target call failed');
    await c.close();
    assert.equal(seen['127.0.0.1'].length, 1);
    assert.equal(seen['127.0.0.2'].length, 0);
  });

  it("this process's key goes to the address it listens on, never to a look-alike at the same port", async () => {
    for (const s of Object.values(seen)) s.length = 0;
    const policy = createTargetPolicy({ host: '127.0.0.1', port });
    for (const base of [`http://127.0.0.1:${port}/`, `http://localhost:${port}`, `http://127.0.0.2:${port}`]) {
      const c = client(base.replace(/\/$/, ''), policy);
      await c.createProject('p', 'latency');
      await c.close();
    }
    assert.deepEqual(
      seen['127.0.0.1'].map((h) => h['x-api-key']),
      Array(4).fill('OWN-KEY-0123456789abcdef'),
    );
    assert.deepEqual(
      seen['127.0.0.2'].map((h) => h['x-api-key']),
      [undefined, undefined],
    );
  });
});

describe('benchmark start refuses a target the policy does not allow', () => {
  it('400 TARGET_NOT_ALLOWED naming the setting, and nothing is created', async () => {
    const app = await startBenchmarkApp({ BENCHMARK_TARGETS: '10.0.0.0/8' });
    try {
      for (const target of ['169.254.169.254', 'http://169.254.169.254/latest/meta-data', `127.0.0.1:${await freePort()}`, 'http://[::1]:22']) {
        const res = await app.api('POST', '/api/v1/benchmarks/start', startBody(target));
        assert.equal(res.status, 400, `${target}: ${res.text}`);
        assert.equal(res.body.error, 'TARGET_NOT_ALLOWED');
        assert.match(res.body.message, /BENCHMARK_TARGETS/);
      }
      assert.deepEqual((await app.api('GET', '/api/v1/benchmarks')).body.items, []);
    } finally {
      await app.close();
    }
  });
});

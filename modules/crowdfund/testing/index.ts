// Test support for crowdfund: the module on an engine (kernel/testing's ENGINES) with gRPC over mutual TLS, a JSON client, raw gRPC clients from a .proto.
import { readFileSync } from 'node:fs';
import { credentials, loadPackageDefinition, Metadata, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Env } from '../../../kernel/config.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { makeCertificates, type TestCertificates } from '../../../kernel/testing/certificates.ts';
import { freePort, startTestApp, waitFor, type Engine, type TestApp } from '../../../kernel/testing/index.ts';
import { loadService } from '../../../kernel/transport/grpc-proto.ts';
import { threadsContract } from '../contract.ts';

export const ORIGINAL_PROTO = new URL('./original-threads.proto', import.meta.url).pathname;
export const THREADS_PROTO = new URL('../threads.proto', import.meta.url).pathname;

let shared: TestCertificates | undefined;
/** One set of certificates per test process (made with openssl in a temp dir). */
export const certificates = () => (shared ??= makeCertificates());

/** The env of a process serving gRPC over mutual TLS with the test certificates. */
export const serverTls = (c = certificates()): Env => ({ GRPC_TLS_CERT_FILE: c.serverCert, GRPC_TLS_KEY_FILE: c.serverKey, GRPC_TLS_CA_FILE: c.ca });
/** The env of a process calling it (its client certificate, the CA to trust). */
export const clientTls = (c = certificates()): Env => ({ GRPC_TLS_CERT_FILE: c.clientCert, GRPC_TLS_KEY_FILE: c.clientKey, GRPC_TLS_CA_FILE: c.ca });

export interface Crowdfund extends TestApp {
  api: Api;
  grpcPort: number;
  /** The engine's env (DATABASE_URL on Postgres). */
  env: Env;
}

/** MODULES=crowdfund (both roles) in this process, gRPC on a free port over mutual TLS; `log` to read what it logs. */
export async function startCrowdfund(engine: Engine, env: Env = {}, log?: Logger): Promise<Crowdfund> {
  const prepared = await engine.prepare('crowdfund');
  const grpcPort = await freePort();
  const app = await startTestApp({
    log,
    env: { MODULES: 'crowdfund', BUS_POLL_MS: '50', GRPC_PORT: String(grpcPort), ...serverTls(), ...prepared.env, ...env },
  });
  return {
    ...app,
    api: api(app.url),
    grpcPort,
    env: prepared.env,
    async close() {
      await app.close();
      await prepared.cleanup();
    },
  };
}

export interface Reply {
  status: number;
  body: any;
}

export type Api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply>;

export function api(baseUrl: string): Api {
  return async (method, path, body, headers = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  };
}

export const proposal = (name: string, over: Record<string, unknown> = {}) => ({
  project_name: name,
  tagline: `${name}, the tagline`,
  tags: ['green', 'city'],
  problems: ['too many cars'],
  solutions: ['more bikes', 'more trams'],
  ...over,
});

/** Proposes and waits until the threads role has made the proposal's threads. */
export async function proposeAndWait(call: Api, name: string, over: Record<string, unknown> = {}): Promise<{ id: number; threads: any[] }> {
  const body = proposal(name, over);
  const res = await call('POST', '/projects/propose', body);
  if (res.status !== 200) throw new Error(`propose answered ${res.status} ${JSON.stringify(res.body)}`);
  const id = res.body.project_id as number;
  const expected = (body.problems as unknown[]).length + (body.solutions as unknown[]).length;
  const threads = await waitFor(
    `threads of project ${id}`,
    async () => {
      const detail = await call('GET', `/projects/${id}`);
      return detail.body?.threads?.length === expected ? (detail.body.threads as any[]) : undefined;
    },
    10_000,
  );
  return { id, threads };
}

const CHECKS_ANSWERS = Symbol('answers checked against the contract');

/**
 * A grpc-js client built from a .proto alone, over mutual TLS with the test client certificate. One
 * built from our threads.proto has every answer `unary` gets checked against the contract's output
 * schema: the server does not check its own answers per call, the tests do.
 */
export function grpcClient(proto: string, port: number, c = certificates()): any {
  const pkg = loadPackageDefinition(loadSync(proto, { keepCase: true, longs: Number, enums: String, defaults: true })) as GrpcObject;
  const Ctor = pkg.ThreadsService as ServiceClientConstructor;
  const client = new Ctor(`127.0.0.1:${port}`, credentials.createSsl(readFileSync(c.ca), readFileSync(c.clientKey), readFileSync(c.clientCert)));
  if (proto === THREADS_PROTO) Object.defineProperty(client, CHECKS_ANSWERS, { value: true });
  return client;
}

/** Throws (naming the rpc and the field) when `value`, decoded from the wire, is not what the contract says `rpc` answers. */
export function checkAnswer(rpc: string, value: unknown): void {
  const method = (rpc[0].toLowerCase() + rpc.slice(1)) as keyof typeof threadsContract.methods;
  const spec = threadsContract.methods[method];
  if (!spec) throw new Error(`no contract method for rpc ${rpc}`);
  const parsed = spec.output.safeParse(loadService(threadsContract).codecs[method].responseFromWire(value));
  if (!parsed.success)
    throw new Error(`${rpc} answered what the contract does not allow: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

/**
 * One unary call; resolves the error or the value (rejects only when an answer breaks the contract, see grpcClient).
 * The deadline is the test's patience, not a latency claim: 2,000 concurrent calls on a loaded CI machine need it.
 */
export const unary = (client: any, rpc: string, request: unknown) =>
  new Promise<{ err: ServiceError | null; value: any }>((resolve, reject) =>
    client[rpc](request, new Metadata(), { deadline: Date.now() + 30_000 }, (err: ServiceError | null, value: any) => {
      if (!err && client[CHECKS_ANSWERS]) {
        try {
          checkAnswer(rpc, value);
        } catch (broken) {
          return reject(broken);
        }
      }
      resolve({ err, value });
    }),
  );

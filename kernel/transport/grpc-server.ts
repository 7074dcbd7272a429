// The kernel's gRPC server: every local role whose contract has a .proto, plus health and reflection, on GRPC_HOST:GRPC_PORT.
import { Server, setLogger, status, type ServerUnaryCall, type ServiceDefinition, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Contract } from '../contract.ts';
import { AppError, errors, isDependencyFailure } from '../errors.ts';
import { secretMatcher } from '../http/auth.ts';
import { validate } from '../http/route.ts';
import type { Logger } from '../logger.ts';
import { toGrpcError, TOKEN_REFUSED } from './grpc-errors.ts';
import { addHealthService, healthPackage, type HealthChecks } from './grpc-health.ts';
import { rpcTallies } from './grpc-metrics.ts';
import { addReflection } from './grpc-reflection.ts';
import { fastEncoder, type Descriptor } from './grpc-encode.ts';
import { loadService, rpcName } from './grpc-proto.ts';
import { checkedDeserializer, Malformed, wireCheck } from './grpc-wire.ts';
import { StartupError } from '../config.ts';
import { serverSpan } from '../tracing/index.ts';
import { serverCredentials, type GrpcTlsSettings } from './grpc-tls.ts';

type Impl = Record<string, (input: unknown) => Promise<unknown>>;

const SERVER_FAULTS = new Set([status.INTERNAL, status.UNAVAILABLE, status.UNKNOWN, status.DATA_LOSS]);

export interface ServedContract {
  contract: Contract;
  /** The role's facade, resolved per call: the server may listen before the role exists (its database still connecting). */
  facade(): object | undefined;
  /** Health SERVING while this answers true. */
  ready(): Promise<boolean>;
}

export interface GrpcServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls: GrpcTlsSettings;
  keepaliveMs: number;
  /** RPC_TOKEN: every call to a served role must carry `authorization: Bearer <token>` (health and reflection stay open). */
  token?: string;
  /** Largest message accepted, bytes. */
  maxMessageBytes: number;
  services: ServedContract[];
  log: Logger;
  metrics: Registry;
}

export interface GrpcServer {
  port: number;
  /** Lets in-flight calls finish within `graceMs`, then cancels the rest. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const credentials = serverCredentials(opts.host, opts.tls, opts.token);
  const tokenMatches = opts.token ? secretMatcher([opts.token]) : undefined;
  const server = new Server({
    'grpc.keepalive_time_ms': opts.keepaliveMs,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    // Clients ping idle connections at their keepalive period; allow it instead of answering GOAWAY.
    'grpc.keepalive_permit_without_calls': 1,
  });
  const tallies = rpcTallies(opts.metrics, 'server');
  const checks: HealthChecks = {};
  let packages = { ...healthPackage() };

  for (const served of opts.services) {
    const loaded = loadService(served.contract);
    const service = loaded.binding.service;
    const handlers: UntypedServiceImplementation = {};
    // The same rpcs, each answer serialized straight from the facade's object where fastEncoder can
    // (see grpc-encode.ts), else converted (Timestamps) and serialized by proto-loader as before.
    const definition: Record<string, ServiceDefinition[string]> = { ...loaded.definition };
    for (const [method, spec] of Object.entries(served.contract.methods)) {
      const codec = loaded.codecs[method];
      const rpc = rpcName(method);
      const original = loaded.definition[rpc] as ServiceDefinition[string] & { requestType: { type: Descriptor }; responseType: { type: Descriptor } };
      const fast = fastEncoder(loaded.packageDefinition, original.responseType.type);
      definition[rpc] = {
        ...original,
        // Our own check before proto-loader decodes: malformed bytes are the caller's INVALID_ARGUMENT, not our INTERNAL.
        requestDeserialize: checkedDeserializer(wireCheck(loaded.packageDefinition, original.requestType.type), original.requestDeserialize),
        responseSerialize: (output: unknown) => fast?.(output) ?? original.responseSerialize(codec.responseToWire(output)),
      };
      const tally = tallies(service, rpc);
      const fail = (err: unknown, started: number, callback: sendUnaryData<unknown>) => {
        // As over HTTP: a backing service that failed is UNAVAILABLE (warn); an error-level line is for our own bugs only.
        const dependency = !(err instanceof AppError) && isDependencyFailure(err);
        if (dependency) opts.log.warn({ err, rpc: `${service}/${rpc}` }, 'backing service unavailable');
        else if (!(err instanceof AppError)) opts.log.error({ err, rpc: `${service}/${rpc}` }, 'gRPC handler failed');
        const failure = toGrpcError(dependency ? errors.SERVICE_UNAVAILABLE('A backing service is unavailable; retry later') : err);
        tally.observe(status[failure.code], started);
        callback(failure);
      };
      handlers[rpc] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        const started = performance.now();
        if (tokenMatches && !tokenMatches(/^Bearer[ \t]+(\S+)$/i.exec(String(call.metadata.get('authorization')[0] ?? ''))?.[1])) {
          // Marked apart from a role's own 401: the caller's deployment is misconfigured, not its client.
          const failure = toGrpcError(errors.UNAUTHORIZED("Internal calls need the deployment's RPC token"));
          failure.metadata.set(TOKEN_REFUSED, 'true');
          tally.observe('UNAUTHENTICATED', started);
          return callback(failure);
        }
        // The caller's trace context and request id (kernel/tracing/): this call's server span, carried to its own calls.
        const given = call.metadata.get('x-request-id')[0];
        const span = serverSpan(`${served.contract.role}/${method}`, call.metadata.getMap(), { reqId: typeof given === 'string' ? given : undefined });
        const respond: sendUnaryData<unknown> = span
          ? (err, value) => {
              // As over HTTP, a server span fails on our side's errors only (a 5xx), not on the caller's (INVALID_ARGUMENT …).
              span.end(`${served.contract.role}/${method}`, { failed: SERVER_FAULTS.has((err as { code?: number } | null)?.code ?? status.OK) });
              callback(err, value);
            }
          : callback;
        const handle = () => {
          let answer: Promise<unknown>;
          try {
            const impl = served.facade() as Impl | undefined;
            if (!impl) throw errors.NOT_READY(`${served.contract.role} is starting`);
            if (call.request instanceof Malformed) {
              const { field, message } = call.request.problem;
              throw errors.VALIDATION_ERROR(`Malformed request${field ? `: ${field}` : ''}: ${message}`, [{ field, message }]);
            }
            // The request is checked against the contract: a client built from the .proto alone may send
            // anything the wire allows. The answer is not: our own facade built it, its type is the
            // contract's, and our clients check every answer they receive (as over HTTP /rpc) — the
            // tests of each contract check that the server's answers parse.
            answer = Promise.resolve(impl[method](validate(spec.input, codec.requestFromWire(call.request), 'body')));
          } catch (err) {
            return fail(err, started, respond);
          }
          answer.then(
            (output) => {
              tally.observe('OK', started);
              respond(null, output);
            },
            (err) => fail(err, started, respond),
          );
        };
        if (span) span.run(handle);
        else handle();
      };
    }
    server.addService(definition as ServiceDefinition, handlers);
    checks[service] = served.ready;
    packages = { ...packages, ...loaded.packageDefinition };
  }
  checks[''] = async () => (await Promise.all(opts.services.map((s) => s.ready()))).every(Boolean);
  const health = addHealthService(server, checks);
  addReflection(server, packages);

  // grpc-js writes its own errors to stderr ("E No address added …" beside a refusal we report in one line):
  // they go to our log instead, at debug, since each failure it reports reaches us as an error too.
  setLogger({ error: (...args: unknown[]) => opts.log.debug({ grpc: args.join(' ') }, 'grpc-js') });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`, credentials, (err, bound) =>
      // A port in use is the operator's to fix: one line naming the setting, as for PORT (kernel/server.ts).
      err
        ? reject(
            /EADDRINUSE/.test(err.message)
              ? new StartupError([`port ${opts.port} is in use (GRPC_HOST ${opts.host}); set GRPC_PORT to another port`])
              : new Error(`gRPC cannot listen on ${opts.host}:${opts.port} (GRPC_HOST, GRPC_PORT): ${err.message}`),
          )
        : resolve(bound),
    ),
  );
  opts.log.info(
    {
      host: opts.host,
      port,
      tls: Boolean(opts.tls.certFile),
      mtls: Boolean(opts.tls.certFile && opts.tls.caFile),
      services: opts.services.map((s) => s.contract.role),
    },
    'gRPC listening',
  );

  let stopping: Promise<void> | undefined;
  return {
    port,
    stop(graceMs = 5000) {
      return (stopping ??= new Promise<void>((resolve) => {
        health.stop();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }));
    },
  };
}

// The gRPC Transport: a contract's facade over grpc:// or grpcs://, failing fast (deadline, breaker, bulkhead), answers checked, errors typed.
import { Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { assertOutsideTransaction } from '../../db/transaction-guard.ts';
import type { Contract, Transport } from '../contract.ts';
import { errors } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { outgoingHeaders } from '../tracing/index.ts';
import { callPolicies, NoAnswer, type CallPolicyOptions } from './call-policy.ts';
import type { Descriptor } from './grpc-encode.ts';
import { fromGrpcError, TOKEN_REFUSED } from './grpc-errors.ts';
import { rpcMetrics } from './grpc-metrics.ts';
import { loadService, rpcName } from './grpc-proto.ts';
import { channelCredentials, type GrpcTlsSettings } from './grpc-tls.ts';
import { checkedDeserializer, Malformed, wireCheck } from './grpc-wire.ts';

export interface GrpcTransportOptions extends Pick<CallPolicyOptions, 'maxInFlight' | 'breakAfter' | 'probeAfterMs'> {
  /** grpc://host:port (plaintext, loopback unless tls.insecure) or grpcs://host:port (TLS). */
  url: string;
  /** Deadline of a whole call, retries included (RPC_TIMEOUT_MS). */
  timeoutMs: number;
  /** Further attempts of idempotent methods after no answer or a callee's 503, within the deadline (RPC_RETRIES). */
  retries: number;
  retryBaseMs?: number;
  keepaliveMs: number;
  maxMessageBytes: number;
  tls: GrpcTlsSettings;
  /** RPC_TOKEN: sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  metrics?: Registry;
  log?: Logger;
}

/**
 * Long enough for a live server, however busy, to end its own late calls first (a storm of 3,000 took
 * over a second to reach a loaded one), so cancellations go only to a peer that is stuck — and there
 * are few of those: the bulkhead and the breaker bound how many calls a stuck peer holds.
 */
const CUTOFF_GRACE_MS = 10_000;

export const isGrpcUrl = (url: string) => /^grpcs?:\/\//i.test(url);

type Rpc = { service: string; rpc: string; path: string; requestSerialize: (v: any) => Buffer; responseDeserialize: (b: Buffer) => any };

/**
 * One channel per transport, i.e. per remote role (one HTTP/2 connection multiplexes its calls).
 * Built lazily, so a bad certificate path fails the first call rather than the whole process.
 * Calls never wait for a connection (no waitForReady): a callee that is down answers UNAVAILABLE at
 * once. grpc-js replaces a connection that was reset or sent GOAWAY by itself; the calls that were
 * on a reset one come back as no answer, and idempotent ones are tried again on the new one.
 */
export function grpcTransport(opts: GrpcTransportOptions): Transport {
  const url = new URL(opts.url);
  if (!url.port) throw new Error(`${opts.url}: a gRPC URL needs a port`);
  const { credentials, options } = channelCredentials(url, opts.tls);
  const client = new Client(url.host, credentials, {
    ...options,
    'grpc.keepalive_time_ms': opts.keepaliveMs,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': opts.maxMessageBytes,
    // grpc-js's default reconnect backoff grows to 120 s: a callee restarted after a minute would
    // stay unreachable for as long. Two seconds at most between reconnection attempts.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2000,
  });
  const observe = opts.metrics ? rpcMetrics(opts.metrics, 'client') : undefined;
  const token = opts.token ? `Bearer ${opts.token}` : undefined;
  const policyFor = callPolicies(opts);
  const rpcs = new Map<string, Rpc>();

  /** The rpc with its answers checked as they are decoded: bytes that break the contract are Malformed, not a grpc-js INTERNAL. */
  function rpcOf(contract: Contract, rpc: string): Rpc {
    const key = `${contract.role}/${rpc}`;
    let found = rpcs.get(key);
    if (!found) {
      const loaded = loadService(contract);
      const d = loaded.definition[rpc] as unknown as Rpc & { responseType: { type: Descriptor } };
      const check = wireCheck(loaded.packageDefinition, d.responseType.type);
      const responseDeserialize = checkedDeserializer(check, d.responseDeserialize);
      rpcs.set(key, (found = { service: loaded.binding.service, rpc, path: d.path, requestSerialize: d.requestSerialize, responseDeserialize }));
    }
    return found;
  }

  /**
   * One attempt, answered by the deadline at the latest. The deadline goes to the server as
   * grpc-timeout, with none given to grpc-js: the server then ends a late call itself, an ordinary
   * end of stream. A grpc-js deadline would cancel it with RST_STREAM instead, and a Node server
   * closes the connection after ~1000 of those in a burst (nghttp2's rapid-reset guard), failing
   * every other call on it: what a stalled peer's expired deadlines did. Only a call the server
   * does not end even so (a peer that is stopped, or not grpc-js) is cancelled, CUTOFF_GRACE_MS later.
   */
  function attempt(role: string, r: Rpc, request: unknown, deadline: number): Promise<unknown> {
    const started = performance.now();
    const ms = Math.max(1, deadline - Date.now());
    const metadata = new Metadata();
    if (token) metadata.set('authorization', token);
    metadata.set('grpc-timeout', `${ms}m`);
    // The trace context and the request id of the caller, where the process traces or carries them.
    const carried = outgoingHeaders();
    if (carried) for (const name in carried) metadata.set(name, carried[name]);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (code: string, err?: Error, value?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(late);
        observe?.(r.service, r.rpc, code, started);
        if (err) reject(err);
        else resolve(value);
      };
      const call = client.makeUnaryRequest(r.path, r.requestSerialize, r.responseDeserialize, request, metadata, {}, (err, value) => {
        clearTimeout(cutoff);
        if (!err) return settle('OK', undefined, value);
        // Our token refused: the deployment's misconfiguration, not the public client's missing key.
        if (err.metadata?.get(TOKEN_REFUSED).length) return settle(statusName(err), errors.ROLE_UNAVAILABLE(`${role} refused this process's RPC token`));
        settle(statusName(err), fromGrpcError(err, role, r.rpc));
      });
      const late = setTimeout(() => settle('DEADLINE_EXCEEDED', new NoAnswer(role, 'DEADLINE_EXCEEDED')), ms);
      // Unref'd: a call left to a stuck peer must not hold a stopping process open.
      const cutoff = setTimeout(() => call.cancel(), ms + CUTOFF_GRACE_MS).unref();
    });
  }

  return {
    async call(contract: Contract, method: string, input: unknown) {
      assertOutsideTransaction(`a gRPC call to ${contract.role}`);
      const codec = loadService(contract).codecs[method];
      const spec = contract.methods[method];
      const r = rpcOf(contract, rpcName(method));
      const request = codec.requestToWire(input);
      const value = await policyFor(contract.role)(method, spec.idempotent === true, (deadline) => attempt(contract.role, r, request, deadline));
      if (value instanceof Malformed) throw invalidAnswer(contract.role, r.rpc, value.problem.field, value.problem.message);
      // Checked here, not only by the facade: a server that is not ours may answer anything the .proto allows.
      const parsed = spec.output.safeParse(codec.responseFromWire(value));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw invalidAnswer(contract.role, r.rpc, issue.path.join('.'), issue.message);
      }
      return parsed.data;
    },
    async close() {
      client.close();
    },
  };
}

/** Names the field and what is wrong with it, from our own schema: nothing the peer sent is quoted. */
const invalidAnswer = (role: string, rpc: string, field: string, problem: string) =>
  errors.ROLE_INVALID_ANSWER(`${role} answered ${rpc} outside its contract${field ? `: ${field}` : ''}: ${problem}`);

const statusName = (err: ServiceError) => status[err.code] ?? String(err.code);

// The gRPC Transport: a contract's facade over grpc:// or grpcs://, with deadlines, jittered retries, keepalive and typed errors.
import { Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { assertOutsideTransaction } from '../../db/transaction-guard.ts';
import type { Contract, Transport } from '../contract.ts';
import { errors } from '../errors.ts';
import { backoffDelay, sleep } from '../backoff.ts';
import type { Logger } from '../logger.ts';
import { fromGrpcError, isRetryable, TOKEN_REFUSED } from './grpc-errors.ts';
import { rpcMetrics } from './grpc-metrics.ts';
import { loadService, rpcName } from './grpc-proto.ts';
import { channelCredentials, type GrpcTlsSettings } from './grpc-tls.ts';

export interface GrpcTransportOptions {
  /** grpc://host:port (plaintext, loopback unless tls.insecure) or grpcs://host:port (TLS). */
  url: string;
  /** Deadline of one attempt (RPC_TIMEOUT_MS). */
  timeoutMs: number;
  /** Further attempts of idempotent methods after UNAVAILABLE or DEADLINE_EXCEEDED (RPC_RETRIES). */
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

export const isGrpcUrl = (url: string) => /^grpcs?:\/\//i.test(url);

/**
 * One channel per transport (a single HTTP/2 connection multiplexes every call). Built lazily, so
 * a bad certificate path fails the first call rather than the whole process. Calls never wait for
 * a connection (no waitForReady): a callee that is down answers UNAVAILABLE at once, and the
 * caller decides (retry, or serve without it).
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
  const metadata = new Metadata();
  if (opts.token) metadata.set('authorization', `Bearer ${opts.token}`);

  function once(
    path: string,
    service: string,
    rpc: string,
    serialize: (v: any) => Buffer,
    deserialize: (b: Buffer) => any,
    request: unknown,
  ): Promise<unknown> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(path, serialize, deserialize, request, metadata, { deadline: Date.now() + opts.timeoutMs }, (err, value) => {
        observe?.(service, rpc, err ? (statusName(err) ?? 'UNKNOWN') : 'OK', started);
        if (err) reject(err);
        else resolve(value);
      });
    });
  }

  return {
    async call(contract: Contract, method: string, input: unknown) {
      assertOutsideTransaction(`a gRPC call to ${contract.role}`);
      const loaded = loadService(contract);
      const rpc = rpcName(method);
      const definition = loaded.definition[rpc];
      const codec = loaded.codecs[method];
      const idempotent = contract.methods[method]?.idempotent === true;
      const attempts = idempotent ? opts.retries + 1 : 1;
      const request = codec.requestToWire(input);
      let last: ServiceError | undefined;
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) await sleep(backoffDelay(attempt, opts.retryBaseMs ?? 50, 2000));
        try {
          const value = await once(definition.path, loaded.binding.service, rpc, definition.requestSerialize, definition.responseDeserialize, request);
          return codec.responseFromWire(value);
        } catch (err) {
          last = err as ServiceError;
          // Our token refused: the deployment's misconfiguration, not the public client's missing key.
          if (last.metadata?.get(TOKEN_REFUSED).length) throw errors.ROLE_UNAVAILABLE(`${contract.role} refused this process's RPC token`);
          if (!isRetryable(last)) throw fromGrpcError(last, contract.role);
          opts.log?.debug({ role: contract.role, rpc, attempt, code: statusName(last), details: last.details }, 'gRPC call failed; retrying if idempotent');
        }
      }
      // A callee's own 503 (NOT_READY) keeps its code; a lost connection or a deadline is ROLE_UNAVAILABLE.
      throw last ? fromGrpcError(last, contract.role) : errors.ROLE_UNAVAILABLE(`${contract.role} is unavailable`);
    },
    async close() {
      client.close();
    },
  };
}

const statusName = (err: ServiceError) => status[err.code] ?? String(err.code);

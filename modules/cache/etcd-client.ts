// Builds the etcd3 client from configuration: endpoints, user/password, TLS, deadlines, fault handling.
import { readFileSync } from 'node:fs';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';
import type { EtcdSettings } from './config.ts';

export function etcdOptions(s: EtcdSettings): IOptions {
  const tls = s.caFile || s.certFile || s.endpoints.some((e) => e.startsWith('https:'));
  const options: IOptions = {
    hosts: s.endpoints,
    dialTimeout: s.timeoutMs,
    // A unary call never waits longer than the deadline; streams (the watch) are long-lived by design.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + s.timeoutMs }),
    grpcOptions: {
      // A list page or a batch of watch events can carry several 1 MiB values.
      'grpc.max_receive_message_length': -1,
      // Notices a silently dead connection (no RST) within ~15 s; etcd permits pings every 5 s.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
    },
    faultHandling: {
      // The client's default opens a host's breaker for 5 s; 1 s lets a restarted etcd be used sooner.
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      // One retry, on another endpoint when there are several.
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 1 }),
    },
  };
  if (tls) {
    options.credentials = {
      rootCertificate: s.caFile ? readFileSync(s.caFile) : (undefined as unknown as Buffer),
      privateKey: s.keyFile ? readFileSync(s.keyFile) : undefined,
      certChain: s.certFile ? readFileSync(s.certFile) : undefined,
    };
  }
  if (s.username && s.password) options.auth = { username: s.username, password: s.password };
  return options;
}

export function createEtcdClient(s: EtcdSettings): Etcd3 {
  return new Etcd3(etcdOptions(s));
}

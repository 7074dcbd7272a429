// Test support: the module's etcd client from the settings a test helper holds (an endpoint, the TLS files
// kernel/testing/etcd.ts made, a user), translated to the config names createEtcdClient takes.
import type { Etcd3 } from 'etcd3';
import type { EtcdTlsFiles } from '../../../kernel/testing/etcd.ts';
import { createEtcdClient as clientFromConfig } from '../etcd-client.ts';

export function createEtcdClient(s: { endpoints: string[]; timeoutMs: number; username?: string; password?: string } & Partial<EtcdTlsFiles>): Etcd3 {
  return clientFromConfig({
    ETCD_URL: s.endpoints,
    CACHE_ETCD_TIMEOUT_MS: s.timeoutMs,
    ETCD_USERNAME: s.username,
    ETCD_PASSWORD: s.password,
    ETCD_CA_FILE: s.caFile,
    ETCD_CERT_FILE: s.certFile,
    ETCD_KEY_FILE: s.keyFile,
  });
}

// Which transport carries the calls to a role in another process: chosen by the scheme of its `<MODULE>_<ROLE>_URL`.
import type { KernelConfig } from '../config.ts';
import type { Transport } from '../contract.ts';
import type { Logger } from '../logger.ts';
import type { Registry } from 'prom-client';
import { grpcSettings, grpcTransport } from './grpc.ts';
import { httpTransport } from './http.ts';

/** URL schemes a role address may use. */
export const transportSchemes = ['http:', 'https:', 'grpc:', 'grpcs:'];

export function transportFor(url: string, config: KernelConfig, deps: { metrics?: Registry; log?: Logger } = {}): Transport {
  const { protocol } = new URL(url);
  if (protocol === 'http:' || protocol === 'https:') {
    return httpTransport({ baseUrl: url, timeoutMs: config.RPC_TIMEOUT_MS, retries: config.RPC_RETRIES, token: config.RPC_TOKEN, log: deps.log });
  }
  if (protocol === 'grpc:' || protocol === 'grpcs:') return grpcTransport({ url, ...grpcSettings(config), ...deps });
  throw new Error(`no transport for ${protocol} (use ${transportSchemes.join(' ')})`);
}

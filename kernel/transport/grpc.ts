// The kernel's gRPC entry points: settings from the kernel config, the client Transport and the server of local roles.
import type { KernelConfig } from '../config.ts';
import type { ModuleDefinition } from '../module.ts';
import type { LocalRole } from '../role-plan.ts';
import { startGrpcServer, type GrpcServer, type GrpcServerOptions, type ServedContract } from './grpc-server.ts';
import type { GrpcTlsSettings } from './grpc-tls.ts';

export { grpcTransport, isGrpcUrl } from './grpc-client.ts';
export { startGrpcServer, type GrpcServer } from './grpc-server.ts';

/** gRPC frames above this are refused (the threads service's largest message is a page of 100 threads). */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export function tlsSettings(config: KernelConfig): GrpcTlsSettings {
  return {
    certFile: config.GRPC_TLS_CERT_FILE,
    keyFile: config.GRPC_TLS_KEY_FILE,
    caFile: config.GRPC_TLS_CA_FILE,
    serverName: config.GRPC_TLS_SERVER_NAME,
    insecure: config.GRPC_INSECURE,
  };
}

/** What a client transport takes from the kernel config. */
export function grpcSettings(config: KernelConfig) {
  return {
    timeoutMs: config.RPC_TIMEOUT_MS,
    retries: config.RPC_RETRIES,
    keepaliveMs: config.GRPC_KEEPALIVE_MS,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    tls: tlsSettings(config),
    token: config.RPC_TOKEN,
  };
}

/**
 * The local roles a process serves over gRPC: those whose contract has a .proto. Their facades are
 * looked up per call and their health asked of `ready`, so the server can listen before they exist.
 */
export function grpcServedRoles(
  local: LocalRole[],
  facade: (role: string) => unknown,
  ready: (module: ModuleDefinition<any>) => Promise<boolean>,
): ServedContract[] {
  return local.flatMap(({ module, role }) => {
    const contract = module.roles[role].provides;
    if (!contract?.proto) return [];
    return [{ contract, facade: () => facade(contract.role) as object | undefined, ready: () => ready(module) }];
  });
}

/** Starts the gRPC server for `services` on GRPC_HOST:GRPC_PORT; undefined when there is nothing to serve. */
export async function serveGrpc(
  config: KernelConfig,
  services: ServedContract[],
  deps: Pick<GrpcServerOptions, 'log' | 'metrics'>,
): Promise<GrpcServer | undefined> {
  if (!services.length) return undefined;
  return startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    tls: tlsSettings(config),
    keepaliveMs: config.GRPC_KEEPALIVE_MS,
    token: config.RPC_TOKEN,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    services,
    ...deps,
  });
}

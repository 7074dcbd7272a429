// grpc.health.v1.Health for the kernel's gRPC server: SERVING only while the service's own check (its database) passes.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status, type Server, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type sendUnaryData } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { LOADER_OPTIONS } from './grpc-proto.ts';

export const HEALTH_PROTO = join(fileURLToPath(new URL('.', import.meta.url)), '../grpc/health.proto');

type Serving = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthChecks {
  /** Service name (as in the .proto, e.g. ThreadsService) → whether it can answer now. '' is the whole server. */
  [service: string]: () => Promise<boolean>;
}

let loaded: PackageDefinition | undefined;
export function healthPackage(): PackageDefinition {
  return (loaded ??= loadSync(HEALTH_PROTO, LOADER_OPTIONS));
}

/** Watchers poll at this period; a status change reaches them within it. */
const WATCH_POLL_MS = 1000;

export function addHealthService(server: Server, checks: HealthChecks): { stop(): void } {
  const watchers = new Map<NodeJS.Timeout, ServerWritableStream<unknown, unknown>>();

  async function statusOf(service: string): Promise<Serving> {
    const check = checks[service];
    if (!check) return 'SERVICE_UNKNOWN';
    return (await check().catch(() => false)) ? 'SERVING' : 'NOT_SERVING';
  }

  const definition = healthPackage()['grpc.health.v1.Health'] as ServiceDefinition;
  server.addService(definition, {
    Check(call: ServerUnaryCall<{ service: string }, unknown>, callback: sendUnaryData<unknown>) {
      statusOf(call.request.service).then((s) => {
        // The protocol: an unknown service is NOT_FOUND for Check, SERVICE_UNKNOWN for Watch.
        if (s === 'SERVICE_UNKNOWN') callback({ code: status.NOT_FOUND, details: `unknown service ${call.request.service}` });
        else callback(null, { status: s });
      });
    },
    Watch(call: ServerWritableStream<{ service: string }, unknown>) {
      let last: Serving | undefined;
      const send = async () => {
        const s = await statusOf(call.request.service);
        if (s !== last && !call.cancelled) call.write({ status: (last = s) });
      };
      void send();
      const timer = setInterval(send, WATCH_POLL_MS);
      watchers.set(timer, call);
      const end = () => {
        clearInterval(timer);
        watchers.delete(timer);
      };
      call.on('cancelled', end);
      call.on('close', end);
    },
  });
  return {
    /** Ends every Watch stream: a graceful server shutdown waits for open streams. */
    stop() {
      for (const [timer, call] of watchers) {
        clearInterval(timer);
        call.end();
      }
      watchers.clear();
    },
  };
}

// Server reflection (grpcurl `list`, `describe`, a call by name) from @grpc/reflection, with every service and symbol
// under the name its .proto declares. @grpc/reflection 1.0.4 keys a package-less file's names with a leading dot
// (`.ThreadsService`), so `describe ThreadsService`, what grpcurl and every client type, was "Symbol not found".
import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/** The indexes each implementation (v1, v1alpha) keeps: private in its types, so pinned by a test with a real client. */
interface Indexes {
  symbols?: Record<string, unknown>;
  services?: Record<string, unknown>;
}

export function addReflection(server: Server, packages: PackageDefinition): void {
  const reflection = new ReflectionService(packages);
  const { v1, v1Alpha } = reflection as unknown as { v1: Indexes; v1Alpha: Indexes };
  for (const { symbols, services } of [v1, v1Alpha]) {
    // Refuse to start rather than serve names no client can resolve, should a new version store them otherwise.
    if (!symbols || !services) throw new Error('@grpc/reflection no longer has the indexes kernel/transport/grpc-reflection.ts renames');
    for (const name of Object.keys(services)) {
      if (!name.startsWith('.')) continue;
      services[name.slice(1)] = services[name];
      delete services[name];
    }
    // The dotted symbols stay: a client may ask by the fully qualified `.Name` too.
    for (const name of Object.keys(symbols)) if (name.startsWith('.')) symbols[name.slice(1)] ??= symbols[name];
  }
  reflection.addToServer(server);
}

// Test support: send bytes as they are to a gRPC method, for malformed frames the generated clients never write.
import { type Client, Metadata, type ServiceError } from '@grpc/grpc-js';

/** Calls `path` with `bytes` as the request; the error the server answered, or null when it answered OK. */
export function sendRaw(client: Client, path: string, bytes: number[] | Buffer, timeoutMs: number): Promise<ServiceError | null> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(bytes),
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err) => resolve(err),
    ),
  );
}

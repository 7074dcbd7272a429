// gRPC credentials from files: TLS, mutual TLS when a CA is given, and plaintext only on loopback unless explicitly allowed.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';

export interface GrpcTlsSettings {
  /** This process's certificate chain (PEM): served by a gRPC server, presented as client certificate when calling. */
  certFile?: string;
  keyFile?: string;
  /** CA bundle (PEM): a server then requires client certificates it signed; a client verifies servers with it. */
  caFile?: string;
  /** Name to verify in the server's certificate when it differs from the URL's host. */
  serverName?: string;
  /** Allows plaintext on a non-loopback address (a private network the operator trusts). */
  insecure: boolean;
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

const read = (file: string) => readFileSync(file);

/**
 * Off loopback, a call must prove it comes from the deployment, as on the HTTP port: a client
 * certificate (GRPC_TLS_CA_FILE, mutual TLS) or the RPC token; anything less answers anyone.
 */
export function serverCredentials(host: string, tls: GrpcTlsSettings, token?: string): ServerCredentials {
  if (!isLoopback(host) && !token && !(tls.certFile && tls.caFile)) {
    throw new Error(`GRPC_HOST ${host} is not a loopback address and gRPC calls would carry no credential: set GRPC_TLS_CA_FILE (mutual TLS) or RPC_TOKEN`);
  }
  if (tls.certFile && tls.keyFile) {
    const ca = tls.caFile ? read(tls.caFile) : null;
    // With a CA, a client without a certificate it signed fails the handshake: no call reaches a handler.
    return ServerCredentials.createSsl(ca, [{ cert_chain: read(tls.certFile), private_key: read(tls.keyFile) }], ca !== null);
  }
  if (!isLoopback(host) && !tls.insecure) {
    throw new Error(
      `GRPC_HOST ${host} is not a loopback address and gRPC has no TLS: set GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE, or GRPC_INSECURE=true on a trusted network`,
    );
  }
  return ServerCredentials.createInsecure();
}

/** grpcs:// → TLS (with the CA and client certificate when configured); grpc:// → plaintext, loopback only unless insecure. */
export function channelCredentials(url: URL, tls: GrpcTlsSettings): { credentials: ChannelCredentials; options: Record<string, string> } {
  if (url.protocol === 'grpcs:') {
    const creds = credentials.createSsl(
      tls.caFile ? read(tls.caFile) : null,
      tls.certFile && tls.keyFile ? read(tls.keyFile) : null,
      tls.certFile && tls.keyFile ? read(tls.certFile) : null,
    );
    return { credentials: creds, options: tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {} };
  }
  if (url.protocol !== 'grpc:') throw new Error(`not a gRPC URL: ${url.protocol}//`);
  if (!isLoopback(url.hostname) && !tls.insecure) {
    throw new Error(`${url.host}: plaintext gRPC to a non-loopback host is refused; use grpcs:// or set GRPC_INSECURE=true`);
  }
  return { credentials: credentials.createInsecure(), options: {} };
}

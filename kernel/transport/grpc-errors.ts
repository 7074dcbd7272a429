// The kernel's typed errors across gRPC: an AppError becomes a status plus trailers, and back, so the caller sees the same code.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { AppError, defineErrors, errors } from '../errors.ts';
import { NoAnswer } from './call-policy.ts';

/** For ALREADY_EXISTS from a gRPC server that is not ours (ours always send the catalogue code). */
export const grpcErrors = defineErrors('kernel', {
  CONFLICT: { status: 409, description: 'A gRPC peer answered ALREADY_EXISTS without a more precise code.' },
});

const CODE = 'cantons-error-code';
const STATUS = 'cantons-error-status';
const DETAILS = 'cantons-error-details-bin';
/** Trailer of a call refused for its RPC token (not a role's own 401). */
export const TOKEN_REFUSED = 'cantons-rpc-token-refused';

const byHttpStatus: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  404: status.NOT_FOUND,
  409: status.ALREADY_EXISTS,
  503: status.UNAVAILABLE,
};

/** What a handler's failure looks like on the wire; anything but an AppError is INTERNAL with no detail. */
export function toGrpcError(err: unknown): { code: status; details: string; metadata: Metadata } {
  const app = err instanceof AppError ? err : errors.UNEXPECTED_ERROR('Unexpected error');
  const metadata = new Metadata();
  metadata.set(CODE, app.code);
  metadata.set(STATUS, String(app.status));
  if (app.details !== undefined) metadata.set(DETAILS, Buffer.from(JSON.stringify(app.details)));
  return { code: byHttpStatus[app.status] ?? status.INTERNAL, details: app.message, metadata };
}

/**
 * The AppError a failed call stands for: ours carry the catalogue code in trailers; a bare status
 * (another server, or grpc-js itself) maps to the nearest kernel code. `role` names the callee in
 * messages; its address and the bare status's details stay out of them (they may reach a public
 * response, and a server that is not ours may say anything there).
 */
export function fromGrpcError(err: ServiceError, role: string, rpc: string): AppError {
  const code = err.metadata?.get(CODE)[0];
  const httpStatus = Number(err.metadata?.get(STATUS)[0]);
  if (typeof code === 'string' && Number.isInteger(httpStatus)) {
    const raw = err.metadata.get(DETAILS)[0];
    let details: unknown;
    if (Buffer.isBuffer(raw)) {
      try {
        details = JSON.parse(raw.toString('utf8'));
      } catch {
        details = undefined;
      }
    }
    return new AppError(code, httpStatus, err.details, details);
  }
  const name = status[err.code] ?? String(err.code);
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      return errors.VALIDATION_ERROR(`${role} refused the request as invalid`);
    case status.NOT_FOUND:
      return errors.NOT_FOUND(`${role} found nothing for ${rpc}`);
    case status.ALREADY_EXISTS:
      return grpcErrors.CONFLICT(`${role} answered ${rpc} with ALREADY_EXISTS`);
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      // Our credentials refused: the deployment's misconfiguration, not the public client's missing key.
      return errors.ROLE_UNAVAILABLE(`${role} refused this process's credentials (${name})`);
    case status.UNIMPLEMENTED:
      return errors.ROLE_INVALID_ANSWER(`${role} does not implement ${rpc} (UNIMPLEMENTED)`);
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
      return errors.ROLE_INVALID_ANSWER(`${role} answered ${rpc} with ${name}, which its contract does not use`);
    default:
      // UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, a reset (grpc-js reports it as INTERNAL), UNKNOWN,
      // RESOURCE_EXHAUSTED, ABORTED, DATA_LOSS: no usable answer came back.
      return new NoAnswer(role, name, !LOST_CONNECTION.test(err.details ?? ''));
  }
}

/** grpc-js's words for a call whose connection went away under it (as opposed to none to be had: "No connection established"). */
const LOST_CONNECTION = /Connection dropped|Session closed|RST_STREAM|ECONNRESET|GOAWAY/;

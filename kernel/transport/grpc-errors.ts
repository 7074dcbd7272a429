// The kernel's typed errors across gRPC: an AppError becomes a status plus trailers, and back, so the caller sees the same code.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { AppError, defineErrors, errors } from '../errors.ts';

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

/** Whether a failed call may be tried again (for idempotent methods): the peer was not reached or not ready. */
export function isRetryable(err: ServiceError): boolean {
  return err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED;
}

/**
 * The AppError a failed call stands for: ours carry the catalogue code in trailers; a bare status
 * (another server, or grpc-js itself) maps to the nearest kernel code. `role` names the callee in
 * messages; its address stays out of them (they may reach a public response).
 */
export function fromGrpcError(err: ServiceError, role: string): AppError {
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
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      return errors.VALIDATION_ERROR(err.details);
    case status.NOT_FOUND:
      return errors.NOT_FOUND(err.details);
    case status.ALREADY_EXISTS:
      return grpcErrors.CONFLICT(err.details);
    case status.UNAUTHENTICATED:
      return errors.UNAUTHORIZED(err.details);
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return errors.ROLE_UNAVAILABLE(`${role} is unavailable: ${status[err.code]}`);
    default:
      return new AppError('UNEXPECTED_ERROR', 500, `${role} failed: ${status[err.code] ?? err.code}`);
  }
}

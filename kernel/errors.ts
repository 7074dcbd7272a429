// The error catalogue: one error class, codes declared per module, one JSON body shape on the wire.

/** Every error a client may see: `{"error": code, "message": message}` with `status` as HTTP status. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(): { error: string; message: string; details?: unknown } {
    return this.details === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, message: this.message, details: this.details };
  }
}

export interface CatalogueEntry {
  status: number;
  description: string;
}

/** All codes declared by the kernel and by every module imported so far (docs/errors.md lists them). */
export const catalogue = new Map<string, CatalogueEntry & { owner: string }>();

type Factories<T> = { [K in keyof T]: (message: string, details?: unknown) => AppError };

/**
 * Declares a module's error codes once and returns a factory per code:
 * `const errors = defineErrors('shop', { PRODUCT_NOT_FOUND: { status: 404, description } })`
 * then `throw errors.PRODUCT_NOT_FOUND('Product ID x does not exist')`.
 */
export function defineErrors<T extends Record<string, CatalogueEntry>>(owner: string, entries: T): Factories<T> {
  const factories = {} as Record<string, (message: string, details?: unknown) => AppError>;
  for (const [code, entry] of Object.entries(entries)) {
    const known = catalogue.get(code);
    if (known && known.status !== entry.status) {
      throw new Error(`error code ${code} declared by ${owner} with status ${entry.status}, by ${known.owner} with ${known.status}`);
    }
    if (!known) catalogue.set(code, { ...entry, owner });
    factories[code] = (message, details) => new AppError(code, entry.status, message, details);
  }
  return factories as Factories<T>;
}

export const errors = defineErrors('kernel', {
  BAD_REQUEST: { status: 400, description: 'The request body is not valid JSON, or the request is malformed.' },
  VALIDATION_ERROR: { status: 400, description: 'The body, query or path failed validation; `details` names each field.' },
  NOT_FOUND: { status: 404, description: 'No route matches this path.' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The path exists but not for this HTTP method.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than the limit (BODY_LIMIT, 1 MiB by default).' },
  NOT_READY: { status: 503, description: 'The process is starting (a database is still connecting) or shutting down.' },
  ROLE_UNAVAILABLE: { status: 503, description: 'A role this request needs runs in another process that did not answer in time.' },
  UNEXPECTED_ERROR: { status: 500, description: 'A bug or an unexpected failure; details are in the log under the request id.' },
});

/** Maps a thrown value from a library (koa, http-errors) to an AppError when it is a client error. */
export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string };
  if (typeof e?.status !== 'number' || e.status < 400 || e.status >= 500) return undefined;
  const byStatus: Record<number, (m: string) => AppError> = {
    404: errors.NOT_FOUND,
    405: errors.METHOD_NOT_ALLOWED,
    413: errors.PAYLOAD_TOO_LARGE,
  };
  return (byStatus[e.status] ?? errors.BAD_REQUEST)(e.expose && e.message ? e.message : 'Bad request');
}

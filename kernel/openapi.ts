// /openapi.json built from the routes' own specs: the zod schemas they validate with, plus their docs fields.
// Generic on purpose: it knows the kernel's behaviour (validation, API keys, readiness) and nothing of any module.
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { catalogue } from './errors.ts';
import type { HttpMethod, ResponseDoc, RouteSpec } from './http/route.ts';

type Json = Record<string, any>;

/** `/config/*key` and `/products/:id` → `/config/{key}`, `/products/{id}`. */
export const openapiPath = (path: string) => path.replace(/[:*]([A-Za-z_]\w*)\+?/g, '{$1}');

/** API keys go in either header (kernel/http/auth.ts); /healthz and /readyz are not in the document, and need none. */
const securitySchemes = {
  bearerAuth: { type: 'http', scheme: 'bearer', description: 'one of API_KEYS' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'one of API_KEYS' },
};

/** The body of every error (AppError.toBody). */
const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'a code of the error catalogue (docs/errors.md); stable' },
    message: { type: 'string', description: 'for people; may change' },
    details: {
      type: 'array',
      description: 'VALIDATION_ERROR, UNPROCESSABLE_ENTITY: one entry per bad field',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

/** A shared response per error status; the operation lists its codes in the description it puts beside the $ref. */
const ERROR_RESPONSES: Record<number, string> = {
  400: 'ValidationError',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  422: 'UnprocessableContent',
  500: 'UnexpectedError',
  503: 'ServiceUnavailable',
};

const requestId = { $ref: '#/components/headers/X-Request-Id' };

/** What the kernel itself may answer on a route, before the route's own codes. */
function kernelCodes(r: RouteSpec, apiKeys: boolean): string[] {
  const readsJson = r.body !== undefined || (r.rawBody !== undefined && (r.rawBody.contentType ?? 'application/json') === 'application/json');
  return [
    // every path and query value passes the text check, declared or not
    r.validationStatus === 422 ? 'UNPROCESSABLE_ENTITY' : 'VALIDATION_ERROR',
    ...(readsJson ? ['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] : []),
    ...(apiKeys ? ['UNAUTHORIZED'] : []),
    ...([r.method].flat().some((m) => m !== 'get') ? ['CROSS_ORIGIN_REQUEST'] : []),
    'NOT_READY',
  ];
}

/** The document of these routes (the kernel builds it once, when it mounts them). */
export function buildOpenApi(routes: Array<RouteSpec & { module: string }>, version: string, opts: { apiKeys?: boolean } = {}) {
  const apiKeys = Boolean(opts.apiKeys);
  const components = { schemas: { Error: errorSchema } as Json, responses: {} as Json, headers: {} as Json };
  components.headers['X-Request-Id'] = {
    description: "the request id (the client's X-Request-Id or X-Trace-Id, else a new one); the log lines of this request carry it",
    schema: { type: 'string' },
  };

  /** A zod schema as JSON Schema; schemas named with `.meta({ id })` become shared components. */
  function schemaOf(schema: z.ZodType): Json {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
    const { $schema: _, $defs, ...rest } = JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/'), withoutSafeIntegerBounds);
    for (const [id, def] of Object.entries<Json>($defs ?? {})) {
      const known = components.schemas[id];
      if (known && JSON.stringify(known) !== JSON.stringify(def)) throw new Error(`/openapi.json: two different schemas are named ${id}`);
      components.schemas[id] = def;
    }
    return rest;
  }

  /** The shared response of a status, made on first use; its example shows the first of `codes`. */
  function errorResponse(status: number, codes: string[]): Json {
    const name = ERROR_RESPONSES[status] ?? `Error${status}`;
    if (!components.responses[name]) {
      const code = codes[0] ?? [...catalogue].find(([, e]) => e.status === status)?.[0] ?? 'UNEXPECTED_ERROR';
      const example: Json = { error: code, message: catalogue.get(code)?.description ?? STATUS_CODES[status] };
      if (code === 'VALIDATION_ERROR' || code === 'UNPROCESSABLE_ENTITY') {
        Object.assign(example, {
          message: 'Invalid body: name: Invalid input: expected string, received undefined',
          details: [{ field: 'name', message: 'Invalid input: expected string, received undefined' }],
        });
      }
      components.responses[name] = {
        description: STATUS_CODES[status] ?? `error ${status}`,
        headers: { 'X-Request-Id': requestId },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example } },
      };
    }
    return { $ref: `#/components/responses/${name}` };
  }

  function headerRefs(headers: Record<string, string> = {}): Json {
    const out: Json = { 'X-Request-Id': requestId };
    for (const [name, description] of Object.entries(headers)) {
      components.headers[name] ??= { description, schema: { type: 'string' } };
      out[name] = { $ref: `#/components/headers/${name}` };
    }
    return out;
  }

  function success(status: string, value: z.ZodType | null | ResponseDoc): Json {
    const doc: ResponseDoc =
      value instanceof z.ZodType ? { description: STATUS_CODES[status]!, schema: value } : (value ?? { description: STATUS_CODES[status]! });
    if (!doc.schema) return { description: doc.description, headers: headerRefs(doc.headers) };
    const schema = schemaOf(doc.schema);
    // JSON answers get an example made from their schema, kept only when the route's own schema accepts it.
    const example = doc.contentType ? undefined : sample(schema, components.schemas);
    const valid = example !== undefined && doc.schema.safeParse(example).success;
    return {
      description: doc.description,
      headers: headerRefs(doc.headers),
      content: { [doc.contentType ?? 'application/json']: { schema, ...(valid && { example }) } },
    };
  }

  function responses(r: RouteSpec): Json {
    const out: Json = {};
    const codes = new Map<number, string[]>();
    for (const code of [...kernelCodes(r, apiKeys), ...(r.errors ?? [])]) {
      const entry = catalogue.get(code);
      if (!entry) throw new Error(`/openapi.json: ${r.path} names error code ${code}, which no defineErrors declares`);
      codes.set(entry.status, [...(codes.get(entry.status) ?? []), code]);
    }
    for (const [status, value] of Object.entries(r.responses)) {
      if (Number(status) >= 400) codes.set(Number(status), codes.get(Number(status)) ?? []);
      else out[status] = success(status, value);
    }
    for (const [status, list] of [...codes].sort(([a], [b]) => a - b)) {
      const described = list.map((c) => `- \`${c}\`: ${catalogue.get(c)!.description}`).join('\n');
      out[status] = { ...errorResponse(status, list), ...(described && { description: described }) };
    }
    out.default = { ...errorResponse(500, ['UNEXPECTED_ERROR']), description: 'Any other error, in the same shape (405, 408, 431, 500 …; docs/errors.md).' };
    return out;
  }

  function parameters(r: RouteSpec): Json[] {
    const out: Json[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const json = schemaOf(schema);
      const examples = r.example?.[where === 'path' ? 'params' : 'query'] ?? {};
      for (const [name, s] of Object.entries<Json>(json.properties ?? {})) {
        const { description, ...rest } = s;
        out.push({
          name,
          in: where,
          required: where === 'path' || (json.required ?? []).includes(name),
          ...(description && { description }),
          schema: rest,
          ...(examples[name] !== undefined && { example: examples[name] }),
        });
      }
    }
    for (const [name, description] of Object.entries(r.headers ?? {})) {
      const example = r.example?.headers?.[name];
      out.push({ name, in: 'header', required: false, description, schema: { type: 'string' }, ...(example !== undefined && { example }) });
    }
    return out;
  }

  function requestBody(r: RouteSpec): Json | undefined {
    const declared = r.body ? { schema: r.body, contentType: 'application/json', description: undefined } : r.rawBody;
    if (!declared) return undefined;
    let schema = schemaOf(declared.schema);
    // The body's own fields stay inline, so that a reader (and kernel/fuzz.test.ts) sees them without a $ref.
    if (typeof schema.$ref === 'string' && Object.keys(schema).length === 1) schema = components.schemas[schema.$ref.split('/').pop()!];
    const example = r.example && 'body' in r.example ? { example: r.example.body } : {};
    return {
      required: true,
      ...(declared.description && { description: declared.description }),
      content: { [declared.contentType ?? 'application/json']: { schema, ...example } },
    };
  }

  const paths: Record<string, Json> = {};
  const ids = new Set<string>();
  for (const r of routes) {
    const path = openapiPath(r.path);
    for (const method of [r.method].flat()) {
      const operationId = operationIdOf(r, method);
      if (ids.has(operationId)) throw new Error(`/openapi.json: operationId ${operationId} is used twice (${method} ${r.path})`);
      ids.add(operationId);
      const body = requestBody(r);
      const parameters_ = parameters(r);
      (paths[path] ??= {})[method] = {
        operationId,
        summary: r.summary,
        ...(r.description && { description: r.description }),
        tags: r.tags ?? [r.module],
        ...(parameters_.length && { parameters: parameters_ }),
        ...(body && { requestBody: body }),
        responses: responses(r),
        // What its example answers on a fresh start when that is not its first status (kernel/openapi.test.ts).
        ...(r.example?.status && { 'x-example-status': r.example.status }),
      };
    }
  }
  const security = apiKeys ? { security: [{ bearerAuth: [] }, { apiKeyHeader: [] }] } : { security: [] };
  return {
    openapi: '3.1.0',
    info: {
      title: 'cantons',
      version,
      description: 'Every public route of this process (the modules MODULES enables). Errors are `{"error": CODE, "message": …}` (docs/errors.md).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'this process' }],
    ...security,
    paths,
    components: { ...components, ...(apiKeys && { securitySchemes }) },
  };
}

/** zod's `.int()` bounds an integer by ±2⁵³−1: true, and shown by Swagger UI as the example (-9007199254740991). */
function withoutSafeIntegerBounds(key: string, value: unknown): unknown {
  if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) return undefined;
  if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) return undefined;
  return value;
}

const SAMPLE_STRINGS: Record<string, string> = {
  'date-time': '2026-01-01T00:00:00.000Z',
  date: '2026-01-01',
  uuid: '00000000-0000-7000-8000-000000000000',
  email: 'user@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
};

/** A value of a JSON Schema, the least surprising one: its example, const, default or first enum value, else built. */
function sample(schema: Json, schemas: Json, depth = 0): unknown {
  if (depth > 8) return undefined;
  if (typeof schema.$ref === 'string') return sample(schemas[schema.$ref.split('/').pop()!] ?? {}, schemas, depth + 1);
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  for (const key of ['example', 'const', 'default'] as const) if (schema[key] !== undefined) return schema[key];
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const options: Json[] | undefined = schema.anyOf ?? schema.oneOf;
  if (options) return sample(options.find((o) => o.type !== 'null') ?? options[0], schemas, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries<Json>(schema.properties ?? {}).map(([k, s]) => [k, sample(s, schemas, depth + 1)]));
    case 'array': {
      const item = sample(schema.items ?? {}, schemas, depth + 1);
      return item === undefined ? [] : Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => item);
    }
    case 'string':
      return SAMPLE_STRINGS[schema.format] ?? 'x'.repeat(Math.max(1, schema.minLength ?? 6));
    case 'integer':
    case 'number':
      return schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      // No type: any value (z.unknown()); null is one.
      return type === undefined ? null : undefined;
  }
}

/** The route's own operationId for this method, else one derived from method and path (`getProductsById`). */
export function operationIdOf(r: Pick<RouteSpec, 'operationId' | 'path'>, method: HttpMethod): string {
  const given = typeof r.operationId === 'string' ? r.operationId : r.operationId?.[method];
  if (given) return given;
  const words = r.path
    .split(/[^A-Za-z0-9:*]+/)
    .filter(Boolean)
    .map((w) => (/^[:*]/.test(w) ? `by_${w.slice(1)}` : w));
  return [method, ...words.flatMap((w) => w.split('_'))].map((w, i) => (i ? w[0].toUpperCase() + w.slice(1) : w.toLowerCase())).join('');
}

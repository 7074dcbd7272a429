// /openapi.json built from the same zod schemas the routes validate with.
import { z } from 'zod';
import type { RouteSpec } from './http/route.ts';

const errorBody = z.object({ error: z.string(), message: z.string() });

const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, any>;

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = toJson(schema);
  return Object.entries<Record<string, unknown>>(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}

/** `/config/*key` and `/products/:id` → `/config/{key}`, `/products/{id}`. */
export const openapiPath = (path: string) => path.replace(/[:*]([A-Za-z_]\w*)\+?/g, '{$1}');

/** API keys go in either header (kernel/http/auth.ts); /healthz and /readyz are not in the document, and need none. */
const securitySchemes = {
  bearerAuth: { type: 'http', scheme: 'bearer', description: 'one of API_KEYS' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'one of API_KEYS' },
};

export function buildOpenApi(routes: Array<RouteSpec & { module: string }>, version: string, opts: { apiKeys?: boolean } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(r.responses)) {
      responses[status] = schema
        ? { description: status, content: { 'application/json': { schema: toJson(schema) } } }
        : { description: status };
    }
    if (opts.apiKeys) responses['401'] = { description: 'no valid API key', content: { 'application/json': { schema: toJson(errorBody) } } };
    responses.default = { description: 'error', content: { 'application/json': { schema: toJson(errorBody) } } };
    const operation = {
      summary: r.summary,
      tags: r.tags ?? [r.module],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: toJson(r.body) } } } } : {}),
      responses,
    };
    const path = openapiPath(r.path);
    for (const method of [r.method].flat()) (paths[path] ??= {})[method] = operation;
  }
  const secured = opts.apiKeys
    ? { components: { securitySchemes }, security: [{ bearerAuth: [] }, { apiKeyHeader: [] }] }
    : {};
  return { openapi: '3.1.0', info: { title: 'cantons', version }, ...secured, paths };
}

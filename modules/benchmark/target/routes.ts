// The built-in target's HTTP protocol (the original's mock Eigen API): health, login with a cookie, projects, multipart upload.
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { z } from 'zod';
import { errors } from '../../../kernel/errors.ts';
import { route, type RouteSpec } from '../../../kernel/http/route.ts';
import { MAX_DOCUMENT_BYTES } from '../contract.ts';

/** Most files in one upload request (the uploader sends BENCHMARK_UPLOAD_BATCH, 50 by default). */
const MAX_UPLOAD_FILES = 1000;
import { benchmarkErrors } from '../errors.ts';
import type { Processor } from './processor.ts';

export interface TargetRouteOptions {
  prefix: string;
  /** Only this password logs in when set; any otherwise (the original's mock accepted everything). */
  password?: string;
  sessionMs: number;
  errorShare: number;
  callbackUrl?: string;
  /**
   * The key a callback carries, given the upload's headers: BENCHMARK_CALLBACK_API_KEY; else, calling back the
   * upload's origin, the key the upload carried (it passed this process's API_KEYS, and its sender has it);
   * else the first of API_KEYS when BENCHMARK_CALLBACK_URL is this process (target/role.ts).
   */
  callbackApiKey(uploadHeaders: Record<string, string | string[] | undefined>): string | undefined;
  processor: Processor;
  now(): Date;
}

const COOKIE = 'fakesession';
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
const tags = ['benchmark: target'];

export function targetRoutes(opts: TargetRouteOptions): RouteSpec[] {
  const sessions = new Map<string, number>();
  // Project ids are unique per process and increasing across restarts (the original drew 1–100 at random).
  let nextProject = Math.floor(Date.now() / 1000) * 1000;

  function requireSession(ctx: Context): void {
    const token = ctx.cookies.get(COOKIE);
    const until = token ? sessions.get(token) : undefined;
    if (until === undefined) throw benchmarkErrors.TARGET_UNAUTHORIZED('Authentication credentials were not provided.');
    if (until < opts.now().getTime()) {
      sessions.delete(token!);
      throw benchmarkErrors.TARGET_UNAUTHORIZED('Token has expired.');
    }
  }

  async function readForm(ctx: Context): Promise<FormData> {
    const type = ctx.get('content-type');
    if (!type.startsWith('multipart/form-data')) throw errors.BAD_REQUEST('expected multipart/form-data');
    if (Number(ctx.get('content-length') || 0) > MAX_UPLOAD_BYTES) throw errors.PAYLOAD_TOO_LARGE(`upload larger than ${MAX_UPLOAD_BYTES} bytes`);
    let size = 0;
    const limited = ctx.req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPLOAD_BYTES) ctx.req.destroy(new Error('upload too large'));
    });
    try {
      return await new Response(Readable.toWeb(limited) as ReadableStream, { headers: { 'content-type': type } }).formData();
    } catch {
      throw errors.BAD_REQUEST('the multipart body could not be read');
    }
  }

  return [
    route({
      method: 'get',
      path: `${opts.prefix}/health`,
      operationId: 'getTargetHealth',
      summary: 'Target health',
      description: "The original platform's health check.",
      tags,
      responses: { 200: { description: 'Serving', schema: z.object({ status: z.literal('ok') }) } },
      handler: () => ({ body: { status: 'ok' } }),
    }),
    route({
      method: 'post',
      path: `${opts.prefix}/auth/v1/token/`,
      operationId: 'targetLogin',
      summary: 'Log in: sets the session cookie',
      description: 'Any password logs in unless BENCHMARK_TARGET_PASSWORD is set. The `fakesession` cookie it sets is what the other target routes ask for.',
      tags,
      body: z.object({ username: z.string().min(1), password: z.string().min(1) }),
      responses: { 200: { description: 'Logged in (Set-Cookie: fakesession)', schema: z.object({ message: z.string() }) } },
      errors: ['TARGET_UNAUTHORIZED'],
      example: { body: { username: 'bench', password: 'bench' } },
      handler({ body, ctx }) {
        if (opts.password !== undefined && body.password !== opts.password) throw benchmarkErrors.TARGET_UNAUTHORIZED('Invalid username/password.');
        const token = randomBytes(18).toString('base64url');
        sessions.set(token, opts.now().getTime() + opts.sessionMs);
        ctx.cookies.set(COOKIE, token, { httpOnly: true, path: '/', overwrite: true });
        return { body: { message: 'Come to the dark side, we have cookies' } };
      },
    }),
    route({
      method: 'post',
      path: `${opts.prefix}/api/project_management/v2/projects/`,
      operationId: 'createTargetProject',
      summary: 'Create a project; document_type_id is the id uploads and callbacks carry',
      description: 'Needs the session cookie of a login.',
      tags,
      body: z.object({ name: z.string().min(1).max(500), description: z.string().max(2000).nullish() }),
      responses: { 200: { description: 'The project', schema: z.object({ guid: z.string(), document_type_id: z.int() }).loose() } },
      errors: ['TARGET_UNAUTHORIZED'],
      example: { body: { name: 'example project', description: null } },
      handler({ body, ctx }) {
        requireSession(ctx);
        return {
          body: {
            guid: randomUUID(),
            document_type_id: ++nextProject,
            name: body.name,
            description: body.description ?? null,
            created_at: opts.now().getTime() / 1000,
            language: 'english',
            use_numerical_confidence_predictions: true,
          },
        };
      },
    }),
    route({
      method: 'post',
      path: `${opts.prefix}/api/v1/document_uploader/`,
      operationId: 'uploadTargetDocuments',
      summary: 'Upload documents (multipart: document_type_id and files); each is then processed and called back',
      description:
        'Needs the session cookie of a login. Each file is then processed and its start and end sent to POST /api/v1/benchmarks/documents/ of the uploader.',
      tags,
      rawBody: {
        contentType: 'multipart/form-data',
        schema: z.object({
          document_type_id: z.string().min(1),
          files: z
            .array(z.string().meta({ format: 'binary' }))
            .min(1)
            .max(MAX_UPLOAD_FILES),
        }),
      },
      responses: { 202: { description: 'Received; processing follows', schema: z.object({ message: z.string() }) } },
      errors: ['TARGET_UNAUTHORIZED', 'BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'TARGET_FAULT'],
      example: { body: { document_type_id: '1001', files: ['hello'] } },
      async handler({ ctx }) {
        requireSession(ctx);
        if (Math.random() < opts.errorShare) {
          ctx.req.resume();
          throw benchmarkErrors.TARGET_FAULT('injected upload failure');
        }
        const form = await readForm(ctx);
        const projectId = form.get('document_type_id');
        const files = form.getAll('files').filter((f): f is File => typeof f !== 'string');
        if (typeof projectId !== 'string' || !projectId)
          throw errors.VALIDATION_ERROR('document_type_id is required', [{ field: 'document_type_id', message: 'required' }]);
        if (files.length === 0 || files.length > MAX_UPLOAD_FILES || files.some((f) => f.size > MAX_DOCUMENT_BYTES)) {
          throw errors.VALIDATION_ERROR(`between 1 and ${MAX_UPLOAD_FILES} files of at most ${MAX_DOCUMENT_BYTES} bytes`, [
            { field: 'files', message: 'bad files' },
          ]);
        }
        // benchmark_host_name is how the uploader addressed us, which is what it matches callbacks by.
        const base = opts.callbackUrl ?? `${ctx.protocol}://${ctx.host}`;
        const apiKey = opts.callbackApiKey(ctx.req.headers);
        opts.processor.enqueue(
          files.map((f, i) => ({
            callbackUrl: base.replace(/\/+$/, ''),
            // The Host header is the client's word: such an origin is called only where BENCHMARK_TARGETS allows.
            policed: opts.callbackUrl === undefined,
            hostName: ctx.host,
            projectId,
            documentId: `${projectId}-${i + 1}`,
            documentName: f.name,
            apiKey,
          })),
        );
        return { status: 202, body: { message: `${files.length} document(s) received` } };
      },
    }),
  ];
}

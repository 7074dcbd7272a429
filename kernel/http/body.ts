// Reads a JSON request body with a size limit: 413 past the limit, 400 when it is not JSON.
import type { Context } from 'koa';
import { errors } from '../errors.ts';

export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (declared > limit) {
    ctx.req.resume();
    ctx.set('connection', 'close');
    throw errors.PAYLOAD_TOO_LARGE(`Request body is ${declared} bytes; the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.set('connection', 'close');
      throw errors.PAYLOAD_TOO_LARGE(`Request body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw errors.BAD_REQUEST('Request body is empty; expected JSON');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.BAD_REQUEST(`Request body is not valid JSON: ${(err as Error).message}`);
  }
}

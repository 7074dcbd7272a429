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
  // Stream events rather than `for await`: fewer promises and allocations on the hottest path.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const req = ctx.req;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        ctx.set('connection', 'close');
        reject(errors.PAYLOAD_TOO_LARGE(`Request body exceeds the limit of ${limit} bytes`));
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
  if (text.trim() === '') throw errors.BAD_REQUEST('Request body is empty; expected JSON');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.BAD_REQUEST(`Request body is not valid JSON: ${(err as Error).message}`);
  }
}

// Reads a JSON request body whatever its Content-Type (415 only for a charset other than UTF-8), 413 past the limit,
// 400 when it is not JSON, too deep, or holds text no store can keep (NUL, lone surrogates). Every body of every route
// comes through here. The type is not what keeps other sites' pages out: cross-origin.ts is.
import type { Context } from 'koa';
import { errors } from '../errors.ts';
import { checkText, MAX_JSON_DEPTH } from './text.ts';

/** Thrown when the client hangs up before its body arrived: its doing, not ours (no response reaches it). */
export class ClientClosedError extends Error {
  constructor() {
    super('client closed the connection before its request body arrived');
    this.name = 'ClientClosedError';
  }
}

// Clients without a browser send JSON under any type or none (curl's `-d` says form-urlencoded), as the originals
// accepted; only a declared charset that is not UTF-8 is refused, since its text would be decoded wrongly.
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const charset = CHARSET.exec(ctx.req.headers['content-type'] ?? '')?.[1].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    ctx.req.resume();
    throw errors.UNSUPPORTED_MEDIA_TYPE(`The body's charset ${charset.slice(0, 40)} is not UTF-8; send UTF-8 JSON`);
  }
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
    // A hang-up mid-body: 'aborted' + 'error' (ECONNRESET) on Node 20, or just 'close' before 'end'.
    req.once('error', (err) => reject(req.complete ? err : new ClientClosedError()));
    req.once('close', () => {
      if (!req.complete) reject(new ClientClosedError());
    });
  });
  if (text.trim() === '') throw errors.BAD_REQUEST('Request body is empty; expected JSON');
  let value: unknown;
  try {
    // V8's JSON.parse does not recurse on the native stack, so it is safe at any depth; checkText then bounds it.
    value = JSON.parse(text);
  } catch (err) {
    throw errors.BAD_REQUEST(`Request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  checkText(value, 'body', MAX_JSON_DEPTH);
  return value;
}

// What every module's checks share: one HTTP call with its answer read (kernel/smoke.ts's fetchAnswer), a wait with a deadline, a one-line failure.
import { randomBytes } from 'node:crypto';
import { type Answer, fetchAnswer } from '../../kernel/smoke.ts';

export type { Answer };

/** One request to `base + path`; a JSON body when `body` is given. A call that gets no answer throws, naming the path. */
export function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return fetchAnswer(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
}

/** A short, one-line picture of what came: an answer as `status body`, anything else as JSON. */
export function show(got: unknown): string {
  const isAnswer = typeof got === 'object' && got !== null && 'status' in got && 'text' in got;
  const text = isAnswer ? `${(got as Answer).status} ${(got as Answer).text}` : typeof got === 'string' ? got : JSON.stringify(got);
  const line = String(text).replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Throws `expected <what>; got <got>` unless `ok`: the message becomes a cell of the matrix. */
export function expect(ok: boolean, what: string, got: unknown): void {
  if (!ok) throw new Error(`expected ${what}; got ${show(got)}`);
}

/** Reads until `holds` is true of what was read, or throws with the last reading once `timeoutMs` has passed. */
export async function eventually<T>(what: string, read: () => Promise<T>, holds: (value: T) => boolean, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (holds(value)) return value;
    if (Date.now() > deadline) throw new Error(`expected ${what} within ${timeoutMs / 1000} s; last got ${show(value)}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `n` calls of `fn` at once; resolves their results in order. */
export function parallel<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

/** A name no earlier run used, so a second run on the same data passes too: `<prefix>-<time>-<random>`. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

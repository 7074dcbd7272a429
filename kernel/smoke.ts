// What every module's smoke test (`npm run smoke -- <module>`) needs: one HTTP call with its answer read, and one check.

export interface Answer {
  status: number;
  headers: Headers;
  /** The body parsed as JSON, or its text when it is not JSON (a CSV, an error page). */
  body: any;
  text: string;
}

export async function fetchAnswer(url: string, init?: RequestInit): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    // fetch says only "fetch failed"; the cause (ECONNREFUSED, a timeout) is what a person needs.
    const { origin, pathname, search } = new URL(url);
    const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Error(`${init?.method ?? 'GET'} ${pathname}${search}: no answer from ${origin} (${reason})`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text, for the check or the failure message
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Throws the failure of step `what` of `module`'s smoke test, with what it got. */
export function check(module: string, ok: boolean, what: string, got: unknown): void {
  if (!ok) throw new Error(`smoke ${module}: ${what}; got ${JSON.stringify(got)}`);
}

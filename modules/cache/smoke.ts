// `npm run smoke -- cache [base-url]`: put a value, read it back cached and fresh, delete it, see it gone.
import { keyToPath } from './api/keys.ts';

export async function smokeCache(baseUrl: string, print: (line: string) => void): Promise<void> {
  const key = `smoke/${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const url = `${baseUrl.replace(/\/+$/, '')}/config/${keyToPath(key)}`;
  const value = { checkedAt: new Date().toISOString(), nested: [1, 'two', null] };
  const expect = async (what: string, res: Response, status: number) => {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${await res.text()}`);
    print(`ok  ${what} → ${status}`);
  };
  await expect(`PUT ${key}`, await fetch(url, { method: 'PUT', body: JSON.stringify(value), headers: { 'content-type': 'application/json' } }), 200);
  for (const useCache of ['true', 'false']) {
    const res = await fetch(`${url}?use_cache=${useCache}`);
    await expect(`GET use_cache=${useCache}`, res.clone(), 200);
    if (JSON.stringify(await res.json()) !== JSON.stringify(value)) throw new Error('GET returned another value');
  }
  await expect('DELETE', await fetch(url, { method: 'DELETE' }), 204);
  await expect('GET after DELETE', await fetch(`${url}?use_cache=false`), 404);
}

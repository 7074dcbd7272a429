// The console's HTML: one layout, tables, forms — server-rendered, no script, every value escaped here.
import { esc } from '../svg-charts.ts';

export { esc };

export const PAGES = [
  ['topology', 'Topology'],
  ['bus', 'Bus'],
  ['traces', 'Traces'],
  ['modules', 'Modules'],
  ['mail', 'Mail'],
] as const;

const CSS = `body{font-family:system-ui,sans-serif;margin:0;color:#222;font-size:14px}
header{background:#24323f;color:#fff;padding:.5em 1em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}
header a{color:#cfe3f5;text-decoration:none}header a.here{color:#fff;font-weight:bold;border-bottom:2px solid #f28e2b}
header form{margin-left:auto}main{padding:1em 1.5em;max-width:1400px}
table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#2a7a2a}.bad{color:#b22;font-weight:bold}
.muted{color:#666}.note{background:#fff8dc;border:1px solid #e8d98a;padding:.4em .8em;margin:.5em 0}
.done{background:#e8f5e9;border:1px solid #9ccc9f;padding:.4em .8em;margin:.5em 0}
pre{white-space:pre-wrap;max-width:60em;margin:0;font-size:12px}form.inline{display:inline}button{cursor:pointer}
svg{max-width:100%;height:auto}h2{margin-top:1.4em}dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}dt{font-weight:bold}`;

/** The whole page: navigation, the page's title, its content; `refresh` seconds re-load it (a meta tag, not a script). */
export function layout(opts: { page: string; title: string; body: string; refresh?: number; signedIn: boolean }): string {
  const nav = PAGES.map(([id, name]) => `<a href="/console/${id}"${id === opts.page ? ' class="here"' : ''}>${name}</a>`).join('');
  const out = opts.signedIn ? '<form method="post" action="/console/logout"><button>Log out</button></form>' : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)} · cantons console</title>
${opts.refresh ? `<meta http-equiv="refresh" content="${opts.refresh}">` : ''}<meta name="viewport" content="width=device-width">
<style>${CSS}</style></head><body><header><b>cantons console</b>${nav}${out}</header>
<main><h1>${esc(opts.title)}</h1>${opts.body}</main></body></html>
`;
}

export type Cell = string | number | boolean | null | undefined | { html: string } | { text: string; href: string };

const isNumber = (v: Cell) => typeof v === 'number';

/** One cell: numbers right-aligned, `{ html }` as given (built by this folder, escaped already), a link, or text. */
function cell(v: Cell): string {
  if (v === null || v === undefined) return '<td class="muted">–</td>';
  if (typeof v === 'object' && 'html' in v) return `<td>${v.html}</td>`;
  if (typeof v === 'object') return `<td><a href="${esc(v.href)}">${esc(v.text)}</a></td>`;
  if (typeof v === 'boolean') return `<td class="${v ? 'ok' : 'bad'}">${v ? 'yes' : 'no'}</td>`;
  return `<td${isNumber(v) ? ' class="n"' : ''}>${esc(typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v)}</td>`;
}

export function table(columns: string[], rows: Cell[][], empty = 'none'): string {
  if (!rows.length) return `<p class="muted">${esc(empty)}</p>`;
  return `<table><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</table>`;
}

/** A button that POSTs to `action` (same origin, checked) with hidden fields. */
export function button(action: string, label: string, fields: Record<string, string> = {}): string {
  const hidden = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  return `<form class="inline" method="post" action="${esc(action)}">${hidden}<button>${esc(label)}</button></form>`;
}

/** Long text folded: the first line shown, the rest on a click (a <details>, no script). */
export function folded(text: string, max = 8000): { html: string } {
  const clipped = text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
  const first = clipped.split('\n')[0].slice(0, 120);
  if (first === clipped) return { html: `<pre>${esc(clipped)}</pre>` };
  return { html: `<details><summary>${esc(first)}${first.length < clipped.length ? ' …' : ''}</summary><pre>${esc(clipped)}</pre></details>` };
}

/** `12 s`, `3 min`, `2 h 5 min`. */
export function age(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

// Names that may hold a credential: their values never reach a page, wherever they sit in a payload.
const SECRET_KEY = /authorization|cookie|password|passwd|secret|token|api[._-]?key/i;

/** JSON for display with the values of secret-looking keys replaced by ***. */
export function redactedJson(value: unknown): string {
  return JSON.stringify(value, (k, v) => (k && SECRET_KEY.test(k) && v !== null && v !== undefined ? '***' : v)) ?? 'undefined';
}

/** `https://user:pw@host:9000/x?token=1` → `https://host:9000/x`: where a role runs, never its credentials. */
export function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(an unparseable URL)';
  }
}

// The Modules and Mail pages: what each role of this process shows through its console hook (kernel/console/hook.ts),
// rendered and escaped here; a hook's button is drawn only when the role it names runs here and has that action.
import { barChart, color } from '../svg-charts.ts';
import type { ConsoleCell, ConsoleHook, ConsoleMail, ConsolePanel } from './hook.ts';
import { button, esc, folded, table, type Cell } from './page.ts';

export type Hooks = Map<string, ConsoleHook>;

// A hook links to this process's own paths only: a value that is not one is shown as text.
const ownPath = (href: string) => /^\/(?!\/)[^\s\\]*$/.test(href);

const labelOf = (v: ConsoleCell) => (v && typeof v === 'object' ? v.text : String(v));

function toCell(v: ConsoleCell): Cell {
  if (v && typeof v === 'object') return ownPath(v.href) ? v : v.text;
  return typeof v === 'string' && v.length > 200 ? folded(v, 4000) : v;
}

function panelHtml(role: string, panel: ConsolePanel, hooks: Hooks): string {
  const rows = panel.rows.map((r) => {
    const buttons = (r.buttons ?? [])
      .filter((b) => hooks.get(b.role)?.actions?.[b.action])
      .map((b) => button(`/console/modules/${encodeURIComponent(b.role)}/${encodeURIComponent(b.action)}`, b.label, { arg: b.arg }));
    const cells = r.cells.map(toCell);
    return panel.rows.some((x) => x.buttons?.length) ? [...cells, { html: buttons.join(' ') }] : cells;
  });
  const columns = panel.rows.some((x) => x.buttons?.length) ? [...panel.columns, ''] : panel.columns;
  let chart = '';
  const at = panel.chart ? panel.columns.indexOf(panel.chart.column) : -1;
  if (panel.chart && at >= 0 && panel.rows.length) {
    chart = barChart({
      title: `${panel.title}: ${panel.chart.column}`,
      xLabel: panel.chart.unit,
      bars: panel.rows.slice(0, 30).map((r, i) => ({ label: labelOf(r.cells[0]), value: Number(r.cells[at]) || 0, color: color(i) })),
      width: 560,
    });
  }
  return `<h3>${esc(panel.title)} <span class="muted">(${esc(role)})</span></h3>${panel.note ? `<p class="muted">${esc(panel.note)}</p>` : ''}${table(columns, rows, 'nothing yet')}${chart}`;
}

export async function renderModules(hooks: Hooks): Promise<string> {
  const out: string[] = [];
  for (const [role, hook] of hooks) {
    if (!hook.panels) continue;
    try {
      for (const panel of await hook.panels()) out.push(panelHtml(role, panel, hooks));
    } catch (err) {
      out.push(`<h3>${esc(role)}</h3><p class="bad">Could not be read: ${esc(err instanceof Error ? err.message.slice(0, 300) : 'error')}</p>`);
    }
  }
  return out.length ? out.join('\n') : '<p class="muted">No role of this process shows anything here.</p>';
}

export function renderMail(hooks: Hooks): string {
  const mail: Array<ConsoleMail & { role: string }> = [];
  for (const [role, hook] of hooks) for (const m of hook.mail?.() ?? []) mail.push({ ...m, role });
  mail.sort((a, b) => b.at.localeCompare(a.at));
  const rows = mail.map((m): Cell[] => [
    m.at,
    {
      html: `<span class="${m.outcome === 'failed' ? 'bad' : 'ok'}">${esc(m.outcome === 'log' ? 'logged (no SMTP_URL)' : m.outcome === 'smtp' ? 'sent' : 'refused')}</span>${m.error ? `<br><span class="muted">${esc(m.error.slice(0, 300))}</span>` : ''}`,
    },
    m.from,
    m.to.join(', '),
    m.subject,
    folded(m.text, 8000),
    (m.attachments ?? []).join(', ') || null,
    m.role,
  ]);
  return `<p class="muted">The emails this process sent, tried to send, or only logged because SMTP_URL is unset — since it started, newest first.</p>${table(
    ['at', 'outcome', 'from', 'to', 'subject', 'text', 'attachments', 'role'],
    rows,
    'no emails yet',
  )}`;
}

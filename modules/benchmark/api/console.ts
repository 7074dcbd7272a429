// What benchmark.api shows on /console: the last benchmarks with their progress, report links and a resend button
// (the notifier's action; drawn only where the notifier runs). Never a target's URL, user or password: its host only.
import type { ConsoleHook } from '../../../kernel/module.ts';
import type { Store } from './store.ts';

const BASE = '/api/v1/benchmarks';

export function benchmarkConsole(store: Store): ConsoleHook {
  return {
    async panels() {
      const { items } = await store.list(50);
      const progress = await store.progress(items.map((b) => b.id));
      return [
        {
          title: 'Benchmarks',
          note: 'The last 50, newest first. Progress: documents with both callbacks of all documents.',
          columns: ['name', 'status', 'progress', 'target host', 'started', 'finished', 'error', 'report'],
          rows: items.map((b) => {
            const p = progress.get(b.id) ?? { done: 0, total: 0 };
            const finished = b.status !== 'running';
            return {
              cells: [
                { text: b.name, href: `${BASE}/${encodeURIComponent(b.id)}` },
                b.status,
                `${p.done} / ${p.total}${p.total ? ` (${Math.round((100 * p.done) / p.total)} %)` : ''}`,
                b.target_host,
                b.created_at,
                b.finished_at,
                b.error,
                finished ? { text: 'html', href: `${BASE}/${encodeURIComponent(b.id)}/report.html` } : null,
              ],
              buttons: finished ? [{ role: 'benchmark.notifier', action: 'resend', arg: b.id, label: 'Resend email' }] : [],
            };
          }),
        },
      ];
    },
  };
}

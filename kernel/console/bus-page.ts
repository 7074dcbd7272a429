// The Bus page: outboxes (depth, oldest age), consumers (lag per topic, counts), inboxes, and the dead letters with a
// replay and a discard button each (the actions are kernel/bus/dead-letters.ts's, as `npm run dead-letters` runs them).
import type { BusStats, DeadLetter } from '../bus/types.ts';
import { barChart, color } from '../svg-charts.ts';
import type { AuditEntry } from './audit.ts';
import { age, button, esc, folded, redactedJson, table, type Cell } from './page.ts';

export function renderBus(stats: BusStats | undefined, dead: DeadLetter[], audit: AuditEntry[]): string {
  if (!stats) return '<p class="note">The event bus has not started yet (the modules are starting).</p>';
  const outboxes = stats.outboxes.map((o): Cell[] => [o.module, o.depth, o.depth ? age(o.oldestAgeSeconds) : null]);
  const chart = stats.outboxes.length
    ? barChart({
        title: 'Outbox depth per module (events not yet relayed)',
        xLabel: 'events',
        bars: stats.outboxes.map((o, i) => ({ label: o.module, value: o.depth, color: color(i) })),
        width: 520,
      })
    : '';
  const consumers = stats.consumers.map((c): Cell[] => [c.consumer, c.topic, c.lag, c.pending, c.handled, c.failures, c.deadLettered]);
  const letters = dead.map((d): Cell[] => [
    d.id,
    d.consumer,
    d.topic,
    d.eventId,
    d.failedAt,
    d.attempts,
    folded(d.error, 4000),
    folded(redactedJson(d.payload), 4000),
    {
      html: `${button(`/console/bus/dead-letters/${encodeURIComponent(d.id)}/replay`, 'Replay')} ${button(
        `/console/bus/dead-letters/${encodeURIComponent(d.id)}/discard`,
        'Discard',
      )}`,
    },
  ]);
  return [
    `<p>Adapter: <b>${esc(stats.adapter)}</b>. ${stats.adapter === 'in-process' ? "An event waits only in its publisher's outbox: a consumer's lag is the rows of its topic there." : 'Lag: stream entries the consumer group has not read; pending: read, not yet acknowledged.'}</p>`,
    '<h2>Outboxes</h2>',
    table(['module', 'depth', 'oldest waiting'], outboxes, 'no module of this process publishes'),
    chart,
    '<h2>Consumers</h2>',
    '<p class="muted">Applied, failed attempts and dead-lettered: since this process started.</p>',
    table(['consumer', 'topic', 'lag', 'pending', 'applied', 'failed attempts', 'dead-lettered'], consumers, 'no role of this process subscribes'),
    '<h2>Inboxes</h2>',
    table(
      ['module', 'events recorded'],
      stats.inboxes.map((i) => [i.module, i.size]),
      'no inbox',
    ),
    `<h2 id="dead-letters">Dead letters (${dead.length})</h2>`,
    '<p class="muted">Replay runs the consumer\'s handler once more through its inbox (deleted when it succeeds); discard deletes the dead letter unapplied. Each is done once, and logged with who did it.</p>',
    table(['id', 'consumer', 'topic', 'event', 'failed at', 'attempts', 'error', 'payload', ''], letters, 'no dead letters'),
    auditTable(audit),
  ].join('\n');
}

export function auditTable(audit: AuditEntry[]): string {
  if (!audit.length) return '';
  return `<h2>Console actions</h2>${table(
    ['at', 'who', 'action', 'on', 'outcome'],
    audit.map((a) => [a.at, a.who, a.action, a.target, a.outcome]),
  )}`;
}

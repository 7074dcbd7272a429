// What events.storage shows on /console: its stats (the same as GET /events/stats), counted by kind.
import type { ConsoleHook } from '../../../kernel/module.ts';
import type { EventStats } from '../contract.ts';

export function eventsConsole(stats: () => Promise<EventStats>): ConsoleHook {
  return {
    async panels() {
      const s = await stats();
      return [
        {
          title: 'Stored events',
          note: `Newest stored event: ${s.last_updated ?? 'none yet'}.`,
          columns: ['kind', 'count', 'max', 'average', 'last stored'],
          rows: [
            { cells: ['snow_reports (depth)', s.snow_reports.count, s.snow_reports.max_depth, s.snow_reports.avg_depth, s.snow_reports.last_updated] },
            {
              cells: ['lift_rides (wait minutes)', s.lift_rides.count, s.lift_rides.max_wait_minutes, s.lift_rides.avg_wait_minutes, s.lift_rides.last_updated],
            },
          ],
          chart: { column: 'count', unit: 'events' },
        },
      ];
    },
  };
}

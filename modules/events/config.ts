// The events module's settings, read from the environment (invalid values fail start-up with the rest).
import { z } from 'zod';
import { envInt } from '../../kernel/config.ts';

export const eventsConfigSchema = z.object({
  EVENTS_MAX_BATCH: envInt(500, 1, 2000).describe('most events one group commit writes in one transaction (bounded by the SQL parameter limits)'),
  EVENTS_SQLITE_WRITER: z
    .enum(['thread', 'inline'])
    .default('inline')
    .describe('SQLite file only: commit on the main thread (least CPU per event) or in a worker thread (the fsync does not pause the event loop)'),
});
export type EventsConfig = z.infer<typeof eventsConfigSchema>;

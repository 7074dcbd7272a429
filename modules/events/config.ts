// The events module's settings, read from the environment (invalid values fail start-up with the rest).
import { z } from 'zod';

export const eventsConfigSchema = z.object({
  EVENTS_MAX_BATCH: z.coerce
    .number()
    .int()
    .min(1)
    .max(2000)
    .default(500)
    .describe('most events one group commit writes in one transaction (bounded by the SQL parameter limits)'),
});
export type EventsConfig = z.infer<typeof eventsConfigSchema>;

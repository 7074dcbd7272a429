// The events module's error codes (docs/errors.md tables them with every other module's).
import { defineErrors } from '../../kernel/errors.ts';

export const eventErrors = defineErrors('events', {
  EVENT_NOT_FOUND: { status: 404, description: 'events: no event of that kind at this index or with this trace id.' },
  INVALID_TRACE_ID: { status: 400, description: 'events: the X-Trace-Id (or X-Request-Id) header is not 1–100 printable ASCII characters.' },
  INVALID_RANGE: { status: 400, description: 'events: a timestamp is out of range, or start_timestamp is after end_timestamp.' },
});

// The tracing a module sees (kernel/architecture.test.ts's KERNEL_PUBLIC): one helper, a span around a call that
// leaves cantons (a benchmark target, SMTP, etcd). The rest of kernel/tracing/ stays the kernel's: its seams carry
// the context themselves, so a module never touches carriers, the SDK or the OpenTelemetry API.
import { traced as span } from './index.ts';

/**
 * Runs `fn` in a span `name`, a child of whatever span is active (a request, an event's handler, the step after a
 * commit), ended with `fn`'s outcome (an error marks it failed). `fn` alone, at the cost of one branch, when the
 * process does not trace. `client`: a call to a server outside cantons; `internal`: work inside this process.
 */
export function traced<T>(name: string, kind: 'client' | 'internal', fn: () => Promise<T>, attributes?: Record<string, string | number | boolean>): Promise<T> {
  return span(name, kind, fn, attributes && { attributes });
}

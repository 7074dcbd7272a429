// The benchmark module's error codes (docs/errors.md tables them with every other module's).
import { defineErrors } from '../../kernel/errors.ts';

export const benchmarkErrors = defineErrors('benchmark', {
  TARGET_NOT_ALLOWED: {
    status: 400,
    description: 'benchmark: target_url names no address BENCHMARK_TARGETS allows (metadata and link-local addresses only when named); nothing was created.',
  },
  BENCHMARK_NOT_FOUND: { status: 404, description: 'benchmark: no benchmark with this id.' },
  REPORT_NOT_READY: { status: 409, description: 'benchmark: the benchmark is still running; its report does not exist yet.' },
  BENCHMARK_FINISHED: { status: 409, description: 'benchmark: a callback for a document of a benchmark that has already ended; nothing changed.' },
  TARGET_UNAUTHORIZED: { status: 401, description: 'benchmark.target: wrong credentials, or no valid session cookie ("Token has expired.").' },
  TARGET_FAULT: { status: 500, description: 'benchmark.target: an injected failure (BENCHMARK_TARGET_FAULT_ERROR).' },
});

// The built-in target's document processing: each uploaded document calls back its start, waits, calls back its end —
// a bounded number at once, with injected faults (silent documents) to exercise timeouts.
import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fetch } from 'undici';
import { sleep } from '../../../kernel/backoff.ts';
import type { Logger } from '../../../kernel/logger.ts';
import { type Pinned, pinnedAgent } from '../target-http.ts';
import type { TargetPolicy } from '../target-policy.ts';

export interface Job {
  callbackUrl: string;
  /** The callback URL came from the upload's Host header: called only at an address the policy allows. */
  policed: boolean;
  hostName: string;
  projectId: string;
  documentId: string;
  documentName: string;
  /** X-API-Key on the callbacks (the benchmark process is behind API_KEYS); memory only, never logged. */
  apiKey?: string;
}

export interface ProcessorOptions {
  delay: { min: number; max: number };
  concurrency: number;
  /** Share (0–1) of documents that never call back. */
  silentShare: number;
  log: Logger;
  policy: TargetPolicy;
}

/** Checked addresses of callback origins, re-resolved after a minute; a few origins at most in practice. */
function pinnedOrigins(policy: TargetPolicy) {
  const pins = new Map<string, { at: number; pin: Promise<Pinned | undefined> }>();
  const close = (pin: Promise<Pinned | undefined>) => pin.then((p) => p?.agent.close()).catch(() => undefined);
  return {
    get(url: string): Promise<Pinned | undefined> {
      const origin = new URL(url).origin;
      const held = pins.get(origin);
      if (held && Date.now() - held.at < 60_000) return held.pin;
      if (held) void close(held.pin);
      if (pins.size >= 64) this.close();
      const pin = pinnedAgent(policy, new URL(origin));
      pins.set(origin, { at: Date.now(), pin });
      return pin;
    },
    close(): void {
      for (const { pin } of pins.values()) void close(pin);
      pins.clear();
    },
  };
}

export function createProcessor(opts: ProcessorOptions) {
  const queue: Job[] = [];
  let active = 0;
  let stopped = false;
  const timers = new AbortController();
  const pinned = pinnedOrigins(opts.policy);

  async function callback(job: Job, times: { start_time: number | null; end_time: number | null }): Promise<void> {
    const body = JSON.stringify({
      document_name: job.documentName,
      eigen_document_id: job.documentId,
      eigen_project_id: job.projectId,
      benchmark_host_name: job.hostName,
      ...times,
    });
    const pin = job.policed ? await pinned.get(job.callbackUrl) : undefined;
    if (job.policed && !pin) {
      opts.log.warn({ document: job.documentName, project: job.projectId }, 'the upload named a callback origin BENCHMARK_TARGETS does not allow; no callback');
      return;
    }
    // Retries for about ten seconds, so a benchmark process restarting meanwhile still gets it; past that,
    // a lost callback is what the benchmark's timeout is for.
    for (let attempt = 0; attempt < 10 && !stopped; attempt++) {
      try {
        const res = await fetch(`${job.callbackUrl}/api/v1/benchmarks/documents/`, {
          dispatcher: pin?.agent,
          method: 'POST',
          headers: job.apiKey ? { 'content-type': 'application/json', 'x-api-key': job.apiKey } : { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        if (res.status === 401) {
          // Not retried: the key will not change. The benchmark times out; the log says why.
          opts.log.warn(
            { document: job.documentName, project: job.projectId, key: job.apiKey ? 'refused' : 'none sent' },
            'target callback answered 401: the benchmark process needs an API key (BENCHMARK_CALLBACK_API_KEY)',
          );
          return;
        }
        if (res.status < 500) return;
      } catch {
        // retried below
      }
      await sleep(Math.min(2000, 100 * 2 ** attempt));
    }
    opts.log.warn({ document: job.documentName, project: job.projectId }, 'target callback failed; dropped');
  }

  const delayMs = () => (opts.delay.max > opts.delay.min ? randomInt(opts.delay.min, opts.delay.max + 1) : opts.delay.min);

  async function run(job: Job): Promise<void> {
    if (Math.random() < opts.silentShare) return;
    await callback(job, { start_time: Date.now() / 1000, end_time: null });
    const ms = delayMs();
    if (ms > 0) await delay(ms, undefined, { signal: timers.signal }).catch(() => {});
    if (stopped) return;
    await callback(job, { start_time: null, end_time: Date.now() / 1000 });
  }

  function pump(): void {
    while (!stopped && active < opts.concurrency && queue.length) {
      const job = queue.shift()!;
      active++;
      run(job)
        .catch((err) => opts.log.warn({ err, document: job.documentName }, 'target processing failed'))
        .finally(() => {
          active--;
          pump();
        });
    }
  }

  return {
    enqueue(jobs: Job[]): void {
      queue.push(...jobs);
      pump();
    },
    pending: () => queue.length + active,
    stop(): void {
      stopped = true;
      queue.length = 0;
      timers.abort();
      pinned.close();
    },
  };
}

export type Processor = ReturnType<typeof createProcessor>;

// What a module's conformance checks see of a running topology: its public entry, the processes behind it,
// the mail server its notifiers send to and, where the cache is etcd's, a handle to stop and start etcd.
// The checks speak only to public APIs; the same check runs unchanged against every topology.
import type { ReceivedMail } from '../../modules/benchmark/testing/smtp.ts';

export interface Deployment {
  /** 1–5, the topology's number (conformance/topologies.ts). */
  topology: number;
  /** The one public entry: every module's public paths, routed to (and balanced across) the processes that serve them. */
  gateway: string;
  /** Direct URLs of every process that runs `role` (`cache.api`, `shop.products`, …): one in a one-process topology. */
  instances(role: string): string[];
  /** Every message the SMTP server all notifiers send to has accepted so far. */
  mails: ReceivedMail[];
  /** The etcd the cache instances share; undefined where the cache is in memory (topology 1). */
  etcd?: { stop(): Promise<void>; restart(): Promise<void> };
  /** A line of progress for the person running the suite. */
  log(line: string): void;
}

/** One behaviour: resolves when it holds, throws an Error saying what differed when it does not. */
export interface Check {
  name: string;
  /** true where the behaviour exists; else why it does not (the matrix shows the check as not applicable). */
  appliesTo?(d: Deployment): true | string;
  run(d: Deployment): Promise<void>;
}

/** One request of a module's load phase, fired repeatedly by the runner through the gateway. */
export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface ModuleSuite {
  module: 'events' | 'shop' | 'cache' | 'crowdfund' | 'benchmark';
  checks: Check[];
  /** Sets up what the load phase needs (a product, a key…) and returns the request to fire; `i` numbers the requests. */
  load(d: Deployment): Promise<(i: number) => LoadRequest>;
}

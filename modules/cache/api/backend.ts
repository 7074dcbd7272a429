// The storage contract behind the routes: one in-memory implementation, one on etcd (same contract tests).

/** A stored value: its compact JSON text and the revision that wrote it. */
export interface Entry {
  json: string;
  revision: number;
}

export interface CachedRead {
  entry: Entry | undefined;
  /** True when the copy may be behind the source of truth (etcd unreachable, watch broken). */
  stale: boolean;
}

export interface ListPage {
  keys: string[];
  /** Set when more keys follow; pass it back as `after`. */
  lastKey?: string;
}

export interface ListOptions {
  prefix: string;
  limit: number;
  /** Keys strictly after this one (byte order). */
  after?: string;
  /** Read the source of truth instead of the local copy. */
  fresh: boolean;
}

export interface CacheBackend {
  readonly kind: 'memory' | 'etcd';
  /** Starts syncing; resolves once, it does not wait for the first list (see `ready`). */
  start(): Promise<void>;
  /** Keys held in the local copy. */
  size(): number;
  /** The local copy has been filled at least once. */
  ready(): boolean;
  put(key: string, json: string): Promise<Entry>;
  /** The delete's revision, or undefined when the key did not exist. */
  delete(key: string): Promise<number | undefined>;
  /** The local copy; never waits on the network. */
  getCached(key: string): CachedRead;
  /** A linearizable read of the source of truth. */
  getFresh(key: string): Promise<Entry | undefined>;
  list(opts: ListOptions): Promise<ListPage & { stale: boolean }>;
  close(): Promise<void>;
}

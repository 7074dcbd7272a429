// The five topologies cantons promises to behave the same in, one definition each. The conformance suite,
// `npm run split` and the compose test all read them from here.
//
// A topology is a list of services written the way compose.yaml writes them: role URLs name the service
// that runs the role (`http://events-storage:8080`, `grpcs://crowdfund-threads:9090`) and paths under
// /data are volumes. conformance/launch.ts turns these into local processes on free ports, with
// balancers where a service has replicas.

export interface ServiceSpec {
  /** compose.yaml's service name. */
  name: string;
  /** MODULES of each of its processes; empty runs every module. */
  modules: string;
  /** Its own variables (role URLs, stores); the engines' URLs come from the topology. */
  env?: Record<string, string>;
  /** Processes of this service, behind one round-robin balancer when more than one. */
  replicas: number;
  /** Serves or calls gRPC with mutual TLS: gets the certificate files. */
  tls?: boolean;
}

export interface Topology {
  id: number;
  name: string;
  summary: string;
  /** Postgres, Redis Streams and etcd (true) or SQLite files, the in-process bus and the in-memory cache (false). */
  servers: boolean;
  services: ServiceSpec[];
}

/** Roles that run once even in the replicated topology, and why (docs/architecture.md repeats it). */
export const SINGLE_INSTANCE: Record<string, string> = {
  'benchmark-target':
    "the built-in target stands in for an external upload platform and keeps its login sessions in memory, as the original's mock did: a second replica would not know the first one's tokens",
};

/** Every role its own process (compose.yaml's deployment); `grpc` calls crowdfund's threads over gRPC with mutual TLS. */
function split(grpc: boolean, replicas: number): ServiceSpec[] {
  const n = (name: string) => (SINGLE_INSTANCE[name] ? 1 : replicas);
  const cache = (i: number): ServiceSpec => ({ name: `cache-${i}`, modules: 'cache', env: { ETCD_URL: 'http://etcd:2379' }, replicas: 1 });
  return [
    { name: 'events-storage', modules: 'events.storage', replicas: n('events-storage') },
    { name: 'events-receiver', modules: 'events.receiver', env: { EVENTS_STORAGE_URL: 'http://events-storage:8080' }, replicas: n('events-receiver') },
    {
      name: 'shop-products',
      modules: 'shop.products',
      env: { SHOP_PRODUCTS_STORE: 'redis', REDIS_URL: 'redis://redis:6379' },
      replicas: n('shop-products'),
    },
    { name: 'shop-orders', modules: 'shop.orders', env: { SHOP_PRODUCTS_URL: 'http://shop-products:8080' }, replicas: n('shop-orders') },
    { name: 'crowdfund-threads', modules: 'crowdfund.threads', replicas: n('crowdfund-threads'), tls: grpc },
    {
      name: 'crowdfund-projects',
      modules: 'crowdfund.projects',
      env: { CROWDFUND_THREADS_URL: grpc ? 'grpcs://crowdfund-threads:9090' : 'http://crowdfund-threads:8080' },
      replicas: n('crowdfund-projects'),
      tls: grpc,
    },
    {
      name: 'benchmark-api',
      modules: 'benchmark.api,benchmark.notifier',
      env: { BENCHMARK_REPORTS_DIR: '/data/reports' },
      replicas: n('benchmark-api'),
    },
    { name: 'benchmark-target', modules: 'benchmark.target', env: { BENCHMARK_CALLBACK_URL: 'http://benchmark-api:8080' }, replicas: n('benchmark-target') },
    // Three cache instances, each with every value in memory: replicas of one role already, so they stay three.
    cache(1),
    cache(2),
    cache(3),
  ];
}

export const TOPOLOGIES: Topology[] = [
  {
    id: 1,
    name: 'one process, embedded',
    summary: 'one process, SQLite files, in-process bus, in-memory cache (npm start)',
    servers: false,
    services: [{ name: 'cantons', modules: '', replicas: 1 }],
  },
  {
    id: 2,
    name: 'one process, servers',
    summary: 'one process on Postgres, the Redis Streams bus and the etcd cache',
    servers: true,
    services: [
      { name: 'cantons', modules: '', env: { ETCD_URL: 'http://etcd:2379', SHOP_PRODUCTS_STORE: 'redis', REDIS_URL: 'redis://redis:6379' }, replicas: 1 },
    ],
  },
  {
    id: 3,
    name: 'split, HTTP',
    summary: 'every role its own process, role calls over HTTP /rpc with RPC_TOKEN',
    servers: true,
    services: split(false, 1),
  },
  {
    id: 4,
    name: 'split, gRPC',
    summary: "as 3, crowdfund's threads over gRPC with mutual TLS (compose.yaml's deployment)",
    servers: true,
    services: split(true, 1),
  },
  {
    id: 5,
    name: 'split, two replicas',
    summary: 'as 4, two replicas of every role behind round-robin balancers, sharing Postgres, Redis and etcd',
    servers: true,
    services: split(true, 2),
  },
];

export const MODULE_NAMES = ['events', 'shop', 'cache', 'crowdfund', 'benchmark'] as const;

/** The topology numbered `id`; throws with the valid numbers when there is none. */
export function topology(id: number): Topology {
  const found = TOPOLOGIES.find((t) => t.id === id);
  if (!found) throw new Error(`unknown topology ${id}; valid: ${TOPOLOGIES.map((t) => t.id).join(', ')}`);
  return found;
}

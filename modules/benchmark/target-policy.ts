// Which addresses a benchmark may call on a client's say-so (target_url, a callback origin): BENCHMARK_TARGETS, checked
// on the address actually connected to. The anchor is Stripe's smokescreen: resolve once, check, connect to what was checked.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A resolver: every address of a host name (dns.lookup with `all`; tests pass their own). */
export type LookupAll = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** Where to connect for a URL the policy allows: the checked address, and whether it is this process. */
export interface Resolved {
  address: string;
  family: 4 | 6;
  /** This process's own listening address and port: the only place its own API key may go. */
  own: boolean;
}

// Addresses no benchmark reaches unless an entry names them: cloud metadata services and link-local networks.
const SENSITIVE: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['169.254.0.0', 16, 'ipv4'],
  ['100.100.100.200', 32, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
  ['fd00:ec2::254', 128, 'ipv6'],
];
// Loopback, and the unspecified addresses (a connection to 0.0.0.0 reaches this machine).
const LOOPBACK: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['127.0.0.0', 8, 'ipv4'],
  ['0.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['::', 128, 'ipv6'],
];

function blockList(ranges: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of ranges) list.addSubnet(net, prefix, type);
  return list;
}
const sensitive = blockList(SENSITIVE);
const loopback = blockList(LOOPBACK);

/** An address as one spelling: IPv4-mapped IPv6 (::ffff:169.254.169.254) as the IPv4 address it is. */
function plain(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return { address: mapped[1], type: 'ipv4' };
  return { address: a, type: isIP(a) === 6 ? 'ipv6' : 'ipv4' };
}
const within = (list: BlockList, address: string) => {
  const p = plain(address);
  return isIP(p.address) !== 0 && list.check(p.address, p.type);
};

interface Entry {
  host?: string;
  ip?: string;
  range?: BlockList;
  /** A range inside a sensitive one: it names those addresses explicitly. */
  sensitiveRange?: boolean;
  port?: number;
}

/** One BENCHMARK_TARGETS entry: a host, host:port, an address, [v6]:port or a CIDR range; a message when it is none. */
export function parseEntry(raw: string): Entry | string {
  const s = raw.trim().toLowerCase();
  const cidr = /^(.+)\/(\d{1,3})$/.exec(s);
  if (cidr) {
    const type = isIP(cidr[1]);
    const prefix = Number(cidr[2]);
    if (!type || prefix > (type === 4 ? 32 : 128)) return `${raw}: not a CIDR range`;
    const range = new BlockList();
    range.addSubnet(cidr[1], prefix, type === 4 ? 'ipv4' : 'ipv6');
    return { range, sensitiveRange: within(sensitive, cidr[1]) };
  }
  if (isIP(plain(s).address) && !/^\d+\.\d+\.\d+\.\d+:/.test(s)) return { ip: plain(s).address };
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) return `${raw}: not a host, host:port, address or CIDR range`;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  const host = m[1].replace(/^\[(.*)\]$/, '$1');
  return isIP(plain(host).address) ? { ip: plain(host).address, port } : { host, port };
}

/** The problems of a BENCHMARK_TARGETS value, one per bad entry (config.ts reports them at start-up). */
export const targetListProblems = (value: string) =>
  value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map(parseEntry)
    .filter((e): e is string => typeof e === 'string');

export interface PolicyOptions {
  /** BENCHMARK_TARGETS; undefined: this process, plus any loopback address when HOST is loopback. */
  targets?: string;
  /** This process's HOST and PORT (the built-in target, and where its own key may go). */
  host: string;
  port: number;
  lookup?: LookupAll;
}

export interface TargetPolicy {
  /** The address to connect to for `url`, checked; undefined when no address of it may be reached. */
  resolve(url: URL): Promise<Resolved | undefined>;
}

const portOf = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));

/** Whether HOST listens on an address: HOST itself, or (a wildcard) any loopback or interface address. */
export function listensOn(host: string): (address: string) => boolean {
  const h = plain(host).address;
  if (h === 'localhost') return (a) => ['127.0.0.1', '::1'].includes(plain(a).address);
  if (h === '0.0.0.0' || h === '::') {
    const v6 = h === '::';
    const mine = new Set(
      Object.values(networkInterfaces())
        .flatMap((l) => l ?? [])
        .filter((i) => v6 || i.family === 'IPv4')
        .map((i) => plain(i.address).address),
    );
    return (a) => {
      const p = plain(a);
      return (v6 || p.type === 'ipv4') && (mine.has(p.address) || within(loopback, p.address));
    };
  }
  return (a) => plain(a).address === h;
}

export function createTargetPolicy(opts: PolicyOptions): TargetPolicy {
  const lookup: LookupAll = opts.lookup ?? ((name) => dnsLookup(name, { all: true }));
  const entries =
    opts.targets === undefined
      ? undefined
      : opts.targets
          .split(',')
          .filter((e) => e.trim())
          .map(parseEntry)
          .filter((e): e is Entry => typeof e !== 'string');
  const isOwn = listensOn(opts.host);
  // HOST itself on loopback (not the wildcard 0.0.0.0, which LOOPBACK counts as reaching this machine).
  const h = plain(opts.host).address;
  const hostIsLoopback = h === 'localhost' || (within(loopback, h) && h !== '0.0.0.0' && h !== '::');

  function allowed(hostname: string, port: number, address: string): Resolved | undefined {
    const p = plain(address);
    const own = port === opts.port && opts.port !== 0 && isOwn(p.address);
    const portOk = (e: Entry) => e.port === undefined || e.port === port;
    const named = (entries ?? []).some(
      (e) => portOk(e) && (e.host === hostname || e.ip === p.address || (e.sensitiveRange && e.range!.check(p.address, p.type))),
    );
    let ok: boolean;
    if (within(sensitive, p.address)) ok = named;
    else if (own || named) ok = true;
    else if (entries === undefined) ok = hostIsLoopback && within(loopback, p.address);
    else ok = entries.some((e) => e.range?.check(p.address, p.type));
    return ok ? { address: p.address, family: p.type === 'ipv4' ? 4 : 6, own } : undefined;
  }

  return {
    async resolve(url) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
      const hostname = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
      const port = portOf(url);
      if (isIP(hostname)) return allowed(hostname, port, hostname);
      let addresses: Array<{ address: string }>;
      try {
        addresses = await lookup(hostname);
      } catch {
        return undefined;
      }
      // The first address that passes: the one the connection will use (target-http.ts pins it).
      for (const a of addresses) {
        const ok = allowed(hostname, port, a.address);
        if (ok) return ok;
      }
      return undefined;
    },
  };
}

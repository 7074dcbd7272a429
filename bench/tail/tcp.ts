// The kernel's TCP counters (what `nstat` shows), read before and after a run: a start-up storm that overflowed the
// listen queue or lost a SYN would show here, and a lost SYN costs a 1 s retransmission timeout.
import { readFileSync } from 'node:fs';

export interface TcpCounters {
  /** Tcp RetransSegs: every retransmitted segment. */
  retransSegs: number;
  /** TcpExt TCPSynRetrans: SYNs (or SYN-ACKs) sent again. */
  synRetrans: number;
  /** TcpExt ListenOverflows / ListenDrops: connections the accept queue had no room for. */
  listenOverflows: number;
  listenDrops: number;
  /** TcpExt TCPTimeouts: retransmission timers that fired. */
  timeouts: number;
}

/** "Name: a b c\nName: 1 2 3" pairs of /proc/net/snmp and /proc/net/netstat into `Name.field → value`. */
export function parseProcNet(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n').filter(Boolean);
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [prefix, ...names] = lines[i].split(/\s+/);
    const [prefix2, ...values] = lines[i + 1].split(/\s+/);
    if (prefix !== prefix2) return out;
    for (const [j, n] of names.entries()) out.set(`${prefix.replace(/:$/, '')}.${n}`, Number(values[j]));
  }
  return out;
}

/** This network namespace's counters now; null off Linux. Other processes' traffic counts too. */
export function tcpCounters(): TcpCounters | null {
  try {
    const all = new Map([...parseProcNet(readFileSync('/proc/net/snmp', 'utf8')), ...parseProcNet(readFileSync('/proc/net/netstat', 'utf8'))]);
    const get = (k: string) => all.get(k) ?? 0;
    return {
      retransSegs: get('Tcp.RetransSegs'),
      synRetrans: get('TcpExt.TCPSynRetrans'),
      listenOverflows: get('TcpExt.ListenOverflows'),
      listenDrops: get('TcpExt.ListenDrops'),
      timeouts: get('TcpExt.TCPTimeouts'),
    };
  } catch {
    return null;
  }
}

export function tcpDelta(before: TcpCounters | null, after: TcpCounters | null): TcpCounters | null {
  if (!before || !after) return null;
  return {
    retransSegs: after.retransSegs - before.retransSegs,
    synRetrans: after.synRetrans - before.synRetrans,
    listenOverflows: after.listenOverflows - before.listenOverflows,
    listenDrops: after.listenDrops - before.listenDrops,
    timeouts: after.timeouts - before.timeouts,
  };
}

/** "retrans 3, syn 0, overflow 0" — or '-' without counters. */
export const tcpText = (d: TcpCounters | null) =>
  d ? `retrans ${d.retransSegs}, syn ${d.synRetrans}, overflow ${d.listenOverflows + d.listenDrops}, rto ${d.timeouts}` : '-';

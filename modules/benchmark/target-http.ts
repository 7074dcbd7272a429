// HTTP to an address a client named (a benchmark's target, the built-in target's callback origin): the policy
// resolves the host once and checks the address; the connection goes to exactly that address, so a DNS answer
// that changes between the check and the connect (rebinding) cannot move it.
import { Agent } from 'undici';
import type { TargetPolicy } from './target-policy.ts';

export interface Pinned {
  agent: Agent;
  /** The address is this process's own listening address and port. */
  own: boolean;
}

/** An undici Agent whose every connection goes to the checked address of `url`; undefined when the policy refuses it. */
export async function pinnedAgent(policy: TargetPolicy, url: URL): Promise<Pinned | undefined> {
  const resolved = await policy.resolve(url);
  if (!resolved) return undefined;
  const { address, family } = resolved;
  const agent = new Agent({
    keepAliveTimeout: 4000,
    connect: {
      // Node's net calls this for a host name (never for an address literal, which the policy checked as it is).
      lookup: (_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
        options?.all ? cb(null, [{ address, family }]) : cb(null, address, family),
    } as object,
  });
  return { agent, own: resolved.own };
}

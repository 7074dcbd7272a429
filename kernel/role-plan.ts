// The role plan: which module roles run in this process (MODULES), and where the roles they call live.
import type { ModuleDefinition } from './module.ts';
import { StartupError, type Env } from './config.ts';
import { transportSchemes } from './transport/index.ts';

export interface LocalRole {
  module: ModuleDefinition<any>;
  role: string;
  /** `module.role` */
  name: string;
}

export interface RolePlan {
  local: LocalRole[];
  /** `module.role` → base URL, for every called role that runs elsewhere. */
  remote: Map<string, string>;
}

/** `events.storage` → `EVENTS_STORAGE_URL` */
export const roleUrlVar = (role: string) => `${role.replace(/[.-]/g, '_').toUpperCase()}_URL`;

export function planRoles(modules: ModuleDefinition<any>[], selection: string | undefined, env: Env, busIsShared: boolean): RolePlan {
  const all = modules.flatMap((m) => Object.keys(m.roles).map((role) => ({ module: m, role, name: `${m.name}.${role}` })));
  const wanted = (selection ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const problems: string[] = [];
  let local = all;
  if (wanted.length) {
    const valid = [...modules.map((m) => m.name), ...all.map((r) => r.name)];
    for (const w of wanted) {
      if (!valid.includes(w)) problems.push(`MODULES: unknown module or role "${w}"; valid names: ${valid.join(', ')}`);
    }
    local = all.filter((r) => wanted.includes(r.module.name) || wanted.includes(r.name));
  }

  const localNames = new Set(local.map((r) => r.name));
  const remote = new Map<string, string>();
  for (const r of local) {
    for (const contract of r.module.roles[r.role].uses ?? []) {
      if (localNames.has(contract.role)) continue; // a local role is always preferred
      const variable = roleUrlVar(contract.role);
      const url = env[variable];
      const scheme = url && URL.canParse(url) ? new URL(url).protocol : undefined;
      if (scheme?.startsWith('grpc') && !contract.proto)
        problems.push(`${variable}: ${contract.role} has no .proto, so it cannot be reached over gRPC; use http(s)://`);
      else if (scheme && transportSchemes.includes(scheme)) remote.set(contract.role, url!);
      else if (url) problems.push(`${variable}: not a URL with a known scheme (${transportSchemes.join(' ')})`);
      else problems.push(`${r.name} calls ${contract.role}, which does not run in this process; add it to MODULES or set ${variable}`);
    }
    const spec = r.module.roles[r.role];
    if (spec.subscribes?.length && !r.module.migrations) {
      problems.push(
        `${r.name} subscribes to ${spec.subscribes.map((t) => t.name).join(', ')} but ${r.module.name} has no migrations; its inbox needs a database`,
      );
    }
    // The in-process bus only reaches roles in this process: a topic with a subscriber elsewhere needs a shared bus.
    const publishes = (spec.publishes ?? []).map((t) => t.name);
    const remoteSubscribers = all.filter((o) => !localNames.has(o.name) && o.module.roles[o.role].subscribes?.some((t) => publishes.includes(t.name)));
    if (remoteSubscribers.length && !busIsShared) {
      problems.push(
        `${r.name} publishes ${publishes.join(', ')}, which ${remoteSubscribers.map((o) => o.name).join(', ')} (elsewhere) subscribes to; set EVENT_BUS_URL so events reach them`,
      );
    }
  }
  if (problems.length) throw new StartupError(problems);
  return { local, remote };
}

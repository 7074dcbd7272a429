// The one naming rule: modules and roles are lower-case words (a-z, 0-9, '-'); a role's full name is `module.role`.

export const NAME = /^[a-z][a-z0-9-]*$/;

/** Throws unless `name` is a module or role name. */
export function checkName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`${kind} name must match ${NAME}, got "${name}"`);
  return name;
}

/** Throws unless `name` is `module.role` (contracts and bus consumers are named so). */
export function checkRoleName(kind: string, name: string): string {
  const parts = name.split('.');
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p))) throw new Error(`${kind} must be named 'module.role' (each ${NAME}), got "${name}"`);
  return name;
}

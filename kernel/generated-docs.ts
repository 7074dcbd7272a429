// Docs generated from the code — the error catalogue and the environment variables — so they cannot drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { kernelConfigSchema } from './config.ts';
import { catalogue } from './errors.ts';
import { roleUrlVar } from './role-plan.ts';
import type { ModuleDefinition } from './module.ts';
import { allModules } from './registry.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const README = join(ROOT, 'README.md');
export const ERRORS_DOC = join(ROOT, 'docs/errors.md');
const START = '<!-- config:start (npm run docs) -->';
const END = '<!-- config:end -->';

export function renderErrorsDoc(): string {
  const rank = (owner: string) => (owner === 'kernel' ? '' : owner);
  const rows = [...catalogue.entries()]
    .sort(([a, x], [b, y]) => rank(x.owner).localeCompare(rank(y.owner)) || a.localeCompare(b))
    .map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.owner} | ${e.description} |`);
  return `# Error catalogue

Every error response has the body \`{"error": CODE, "message": text}\` (validation errors add \`details\`: one
\`{field, message}\` per problem). Codes are stable; messages are for people and may change. An unexpected
failure is \`UNEXPECTED_ERROR\` 500 and its details go only to the log, under the request id that the
response carries in \`X-Request-Id\`.

This file is generated from the code (\`npm run docs\`); a test fails when it is out of date.

| code | status | declared by | meaning |
|---|---|---|---|
${rows.join('\n')}
`;
}

function rowsOf(owner: string, schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, any> };
  return Object.entries(json.properties ?? {}).map(([name, p]) => {
    const def = p.default === undefined ? '' : `\`${String(p.default)}\``;
    const values = p.enum ? ` (${p.enum.join(' \\| ')})` : '';
    return `| \`${name}\` | ${owner} | ${def} | ${(p.description ?? '').replace(/\|/g, '\\|')}${values} |`;
  });
}

export function renderConfigTable(modules: ModuleDefinition<any>[] = allModules): string {
  const rows = [...rowsOf('kernel', kernelConfigSchema)];
  for (const m of modules) {
    if (m.config) rows.push(...rowsOf(m.name, m.config));
    for (const [role, spec] of Object.entries(m.roles)) {
      if (spec.provides) rows.push(`| \`${roleUrlVar(`${m.name}.${role}`)}\` | ${m.name} | | base URL of ${m.name}.${role} when it runs in another process |`);
    }
  }
  return `${START}\n| variable | used by | default | meaning |\n|---|---|---|---|\n${rows.join('\n')}\n\nAny variable may instead be given as \`NAME_FILE\` (a file holding the value, for secrets); \`.env\` in the working directory is read too.\n${END}`;
}

/** README.md with its generated block replaced. */
export function readmeWithConfig(): string {
  const text = readFileSync(README, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < 0) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return text.slice(0, from) + renderConfigTable() + text.slice(to + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ERRORS_DOC, renderErrorsDoc());
  writeFileSync(README, readmeWithConfig());
  process.stdout.write('wrote docs/errors.md and the configuration table in README.md\n');
}

// Renders docs/errors.md from the error catalogue, so the table and the code cannot drift apart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogue } from './errors.ts';
import './registry.ts';

export function renderErrorsDoc(): string {
  const rows = [...catalogue.entries()]
    .sort(([a, x], [b, y]) => (x.owner === y.owner ? a.localeCompare(b) : x.owner === 'kernel' ? -1 : y.owner === 'kernel' ? 1 : x.owner.localeCompare(y.owner)))
    .map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.owner} | ${e.description} |`);
  return `# Error catalogue

Every error response has the body \`{"error": CODE, "message": text}\` (validation errors add \`details\`: one
\`{field, message}\` per problem). Codes are stable; messages are for people and may change. An unexpected
failure is \`UNEXPECTED_ERROR\` 500 and its details go only to the log, under the request id that the
response carries in \`X-Request-Id\`.

This file is generated from the code (\`npm run docs:errors\`); a test fails when it is out of date.

| code | status | declared by | meaning |
|---|---|---|---|
${rows.join('\n')}
`;
}

if (process.argv[1]?.endsWith('errors-doc.ts')) {
  writeFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), renderErrorsDoc());
}

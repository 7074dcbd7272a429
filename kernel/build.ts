// `npm run build [-- --out DIR]`: the server compiled to plain JavaScript (default dist/), run with `node dist/kernel/cli.js start`.
//
// tsc (tsconfig.build.json) rewrites the relative `.ts` imports to `.js`; the files the code reads at run
// time that are not TypeScript (the .proto files) are copied next to the compiled code, at the same
// relative paths, so `new URL('./threads.proto', import.meta.url)` finds them. Packages (swagger-ui-dist)
// are resolved from node_modules as from source.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What is compiled: the server's source folders (the bench and tests run from source, with tsx). */
export const SOURCE_DIRS = ['kernel', 'db', 'modules'];
/** Folders that hold test support only: neither compiled nor copied. */
const SKIP = new Set(['testing', 'fixtures', 'node_modules']);

/** The run-time files of the source folders that tsc does not emit, relative to the root. */
export function assetFiles(dir = ROOT): string[] {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) walk(path);
      } else if (!entry.name.endsWith('.ts')) found.push(relative(dir, path));
    }
  };
  for (const d of SOURCE_DIRS) walk(join(dir, d));
  return found.sort();
}

/** Compiles into `out` (emptied first) and copies the assets; returns the assets copied. */
export function build(out = join(ROOT, 'dist')): string[] {
  rmSync(out, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  const assets = assetFiles();
  for (const file of assets) cpSync(join(ROOT, file), join(out, file));
  // The output is ES modules wherever it is put (a temp dir in tests, /app/dist in the image); its version is for `--version`.
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true, version }, null, 2)}\n`);
  return assets;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write('npm run build [-- --out DIR]   compile kernel/, db/, modules/ to DIR (default dist/) and copy the .proto files\n');
  } else {
    const out = resolve(values.out ?? join(ROOT, 'dist'));
    const assets = build(out);
    process.stdout.write(
      `built ${relative(process.cwd(), out) || '.'}: node ${join(relative(process.cwd(), out), 'kernel/cli.js')} start (copied ${assets.join(', ')})\n`,
    );
  }
}

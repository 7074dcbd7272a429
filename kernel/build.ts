// `npm run build [-- --out DIR]`: the server compiled to plain JavaScript (default dist/), run with `node dist/kernel/cli.js start`.
//
// tsc (tsconfig.build.json) rewrites the relative `.ts` imports to `.js`; the files the code reads at run
// time that are not TypeScript (the .proto files) are copied next to the compiled code, at the same
// relative paths, so `new URL('./threads.proto', import.meta.url)` finds them. Packages (swagger-ui-dist)
// are resolved from node_modules as from source.
//
// Then esbuild bundles the entry, dist/kernel/cli.js, with our files and the pure-JavaScript libraries into
// that one file: Node 20 loads hundreds of ES modules (kysely alone has 280) slower than it runs them, and the
// bundle starts in about two thirds of the time (docs/benchmarks.md, "Start-up and memory"). Each of our files
// keeps its own `import.meta.url` in the bundle, so the files it finds beside itself (a .proto, the SQLite writer
// worker, package.json) are found at the compiled copies, which stay. Packages that read their own files at run
// time, native ones, and the ones required only when configured stay in node_modules.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild, type Plugin } from 'esbuild';
import { parseFlags, UsageError } from './cli-flags.ts';
import { VERSION } from './version.ts';

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

/**
 * Loaded from node_modules, not bundled: native, reading their own files by `__dirname`, required only when
 * configured, or (undici) carrying `import('../../types/….d.ts')` in its comments, which the bundle would keep.
 */
const EXTERNAL = ['better-sqlite3', '@grpc/*', 'etcd3', 'pino', 'pino-pretty', 'swagger-ui-dist', 'ioredis', 'pg', 'nodemailer', 'undici', '@opentelemetry/*'];

/** In each compiled file of `dist`, `import.meta.url` becomes that file's own URL, computed from the bundle's. */
function ownImportMetaUrl(dist: string, bundleDir: string): Plugin {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(`${dist}/`)) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const own = `./${relative(bundleDir, args.path)}`.replace(/^\.\/\.\.\//, '../');
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'js' };
      });
    },
  };
}

/** dist/kernel/cli.js and what it imports, bundled into dist/kernel/cli.js. */
async function bundleEntry(out: string): Promise<void> {
  const entry = join(out, 'kernel/cli.js');
  const bundled = join(out, 'kernel/cli.bundle.js');
  await esbuild({
    entryPoints: [entry],
    outfile: bundled,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // The libraries come from this checkout's node_modules, wherever `out` is (a temp dir in tests).
    nodePaths: [join(ROOT, 'node_modules')],
    plugins: [ownImportMetaUrl(out, dirname(entry))],
    // The CommonJS libraries inside the bundle call require (for Node's own modules): an ES module has none.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  renameSync(bundled, entry);
}

/** Compiles into `out` (emptied first), copies the assets and bundles the entry; returns the assets copied. */
export async function build(out = join(ROOT, 'dist')): Promise<string[]> {
  rmSync(out, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  const assets = assetFiles();
  for (const file of assets) cpSync(join(ROOT, file), join(out, file));
  // The output is ES modules wherever it is put (a temp dir in tests, /app/dist in the image); its version is for `--version`.
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true, version }, null, 2)}\n`);
  await bundleEntry(out);
  return assets;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let values: Record<string, string | boolean | undefined> = {};
  try {
    values = parseFlags(
      'build',
      process.argv.slice(2),
      { out: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
      0,
    ).values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write('npm run build [-- --out DIR]   compile kernel/, db/, modules/ to DIR (default dist/) and copy the .proto files\n');
  } else if (values.version) {
    process.stdout.write(`${VERSION}\n`);
  } else {
    const out = resolve((values.out as string | undefined) ?? join(ROOT, 'dist'));
    const assets = await build(out);
    process.stdout.write(
      `built ${relative(process.cwd(), out) || '.'}: node ${join(relative(process.cwd(), out), 'kernel/cli.js')} start (copied ${assets.join(', ')})\n`,
    );
  }
}

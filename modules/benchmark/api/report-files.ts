// Report files under BENCHMARK_REPORTS_DIR: one name per benchmark (the original overwrote one file), written atomically.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `benchmark-<id>.csv|json|html`: a replay rewrites the same three names with the same bytes. */
export function writeReportFiles(dir: string, id: string, files: { csv: string; json: string; html: string }): string[] {
  mkdirSync(dir, { recursive: true });
  return (['csv', 'json', 'html'] as const).map((ext) => {
    const path = join(dir, `benchmark-${id}.${ext}`);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, files[ext]);
    renameSync(tmp, path);
    return path;
  });
}

// The documents a benchmark uploads: the original's three artifacts by default, or `count` generated files of `size_bytes`.
import type { StartBody } from '../contract.ts';
import type { NewDocument } from './store.ts';

/** The original uploaded artifacts/doc1.txt … doc3.txt. */
const DEFAULT = { count: 3, size_bytes: 1024 };

export function plannedDocuments(spec: StartBody['documents']): NewDocument[] {
  const { count, size_bytes } = spec ?? DEFAULT;
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => ({
    position: i,
    // doc1.txt … like the original's artifacts; zero-padded past 9 so names sort in upload order.
    name: `doc${count > 9 ? String(i + 1).padStart(width, '0') : i + 1}.txt`,
    size_bytes,
  }));
}

/** Deterministic text of exactly `size` bytes: the same document uploads the same bytes on a retry. */
export function documentContent(doc: NewDocument): Uint8Array {
  const line = Buffer.from(`cantons benchmark document ${doc.name}\n`);
  const out = Buffer.alloc(doc.size_bytes);
  for (let i = 0; i < out.length; i += line.length) line.copy(out, i, 0, Math.min(line.length, out.length - i));
  return out;
}

/** Upload requests of at most `maxFiles` documents and `maxBytes` (one larger document still goes alone). */
export function uploadBatches<D extends { size_bytes: number }>(docs: D[], maxFiles: number, maxBytes: number): D[][] {
  const batches: D[][] = [];
  let current: D[] = [];
  let bytes = 0;
  for (const d of docs) {
    if (current.length && (current.length >= maxFiles || bytes + d.size_bytes > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(d);
    bytes += d.size_bytes;
  }
  if (current.length) batches.push(current);
  return batches;
}

// Server-assigned trace ids as UUIDv7 (RFC 9562): time-ordered, so each new row's unique-index entry lands at
// the end of the trace_id index instead of on a random page (a random UUIDv4 dirtied one index page per row).
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let at = pool.length;
let lastMs = -1;
let seq = 0;

/** Random bytes from a pool refilled 4 KiB at a time (one syscall per ~400 ids, not one each). */
function random(n: number): Buffer {
  if (at + n > pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  const out = pool.subarray(at, at + n);
  at += n;
  return out;
}

const hex = (b: Buffer, from: number, to: number) => b.toString('hex', from, to);

/**
 * A UUIDv7: 48 bits of Unix milliseconds, then a 12-bit sequence (RFC 9562 method 1: a counter that starts
 * at a random value each millisecond, so ids of one process sort in creation order), then 62 random bits.
 */
export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = random(2).readUInt16BE(0) & 0x7ff; // room for ≥ 2048 more ids this millisecond
  } else if (++seq > 0xfff) {
    // More than the counter holds in one millisecond: borrow the next one (ids stay unique and ordered).
    lastMs++;
    seq = 0;
  }
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(lastMs, 0, 6);
  b.writeUInt16BE(0x7000 | seq, 6);
  random(8).copy(b, 8);
  b[8] = (b[8] & 0x3f) | 0x80;
  return `${hex(b, 0, 4)}-${hex(b, 4, 6)}-${hex(b, 6, 8)}-${hex(b, 8, 10)}-${hex(b, 10, 16)}`;
}

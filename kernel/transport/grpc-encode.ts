// Facade objects straight to protobuf bytes, for the server's answers: no Timestamp copy, no protobufjs message, no Long per 64-bit field.
import type { PackageDefinition } from '@grpc/proto-loader';

/**
 * What proto-loader's serializer does with an answer is `Type.encode(Type.fromObject(toWire(value)))`:
 * a copy of the object with its Timestamps converted, then a protobufjs message with a Long for every
 * 64-bit field, then the bytes. For a page of 20 threads that is 20 messages, 100 Longs and 20
 * Timestamps built and dropped per call. This encoder writes the same bytes from the facade object
 * itself, for messages made only of what the facades here use — integers of the varint kinds
 * (int32, uint32, int64, uint64, bool, enum numbers), strings, nested and repeated messages and
 * google.protobuf.Timestamp from an ISO-8601 string. A message with anything else (floats, bytes,
 * maps, oneofs, packed scalars) gets no encoder, and any value of an unexpected JS type (a string
 * where an integer belongs, an unsafe integer, an enum by name) makes `encode` answer undefined so
 * the caller falls back to proto-loader's serializer: the fast path is byte-for-byte what that one
 * writes (tested), and everything else is exactly what it was.
 */
export type FastEncoder = (value: unknown) => Buffer | undefined;

interface Field {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
  proto3Optional?: boolean;
}

export interface Descriptor {
  field?: Field[];
  oneofDecl?: unknown[];
}

const TIMESTAMP = 'google.protobuf.Timestamp';
const VARINTS = new Set(['TYPE_INT32', 'TYPE_UINT32', 'TYPE_INT64', 'TYPE_UINT64', 'TYPE_BOOL', 'TYPE_ENUM']);

type Kind = 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'enum' | 'string' | 'message' | 'timestamp';
interface Step {
  name: string;
  /** The field's tag (number << 3 | wire type) as varint bytes. */
  tag: number;
  kind: Kind;
  repeated: boolean;
  message?: Step[];
}

/** Unsupported value: give up on this answer, the caller serializes it the slow way. */
const GIVE_UP = Symbol('give up');

/**
 * The encoder of a message — named fully qualified (`demo.v1.Item`) or given as the descriptor
 * proto-loader attaches to an rpc (`responseType.type`) — or undefined when it holds something this
 * encoder does not write.
 */
export function fastEncoder(pkg: PackageDefinition, message: string | Descriptor): FastEncoder | undefined {
  const steps = typeof message === 'string' ? plan(pkg, message, new Set()) : planFields(pkg, message, '', new Set());
  if (!steps) return undefined;
  return (value) => {
    if (value === null || typeof value !== 'object') return undefined;
    const w = writer();
    try {
      writeMessage(w, steps, value as Record<string, unknown>);
    } catch (err) {
      if (err === GIVE_UP) return undefined;
      throw err;
    }
    return w.finish();
  };
}

function plan(pkg: PackageDefinition, typeName: string, seen: Set<string>): Step[] | undefined {
  if (seen.has(typeName)) return undefined; // recursive messages: not worth it here
  const type = (pkg[typeName] as unknown as { type?: Descriptor } | undefined)?.type;
  return type && planFields(pkg, type, typeName, seen);
}

function planFields(pkg: PackageDefinition, type: Descriptor, typeName: string, seen: Set<string>): Step[] | undefined {
  if (type.oneofDecl?.length) return undefined;
  const steps: Step[] = [];
  for (const f of [...(type.field ?? [])].sort((a, b) => a.number - b.number)) {
    if (f.proto3Optional) return undefined;
    const repeated = f.label === 'LABEL_REPEATED';
    if (f.type === 'TYPE_STRING') steps.push({ name: f.name, tag: (f.number << 3) | 2, kind: 'string', repeated });
    else if (VARINTS.has(f.type)) {
      if (repeated) return undefined; // proto3 packs repeated scalars: not needed here
      steps.push({ name: f.name, tag: f.number << 3, kind: f.type.slice(5).toLowerCase() as Kind, repeated });
    } else if (f.type === 'TYPE_MESSAGE') {
      const inner = f.typeName.replace(/^\./, '');
      if (inner === TIMESTAMP) {
        steps.push({ name: f.name, tag: (f.number << 3) | 2, kind: 'timestamp', repeated });
        continue;
      }
      // A map field is a repeated message of an "…Entry" type whose options say map_entry.
      const entry = (pkg[inner] as unknown as { type?: { options?: { mapEntry?: boolean } | null } } | undefined)?.type;
      if (entry?.options?.mapEntry) return undefined;
      const message = plan(pkg, inner, new Set([...seen, typeName]));
      if (!message) return undefined;
      steps.push({ name: f.name, tag: (f.number << 3) | 2, kind: 'message', repeated, message });
    } else return undefined;
  }
  return steps;
}

// Date.parse is most of a Timestamp's cost, and the same created_at strings come back call after call.
const parsed = new Map<string, number>();
function parseIso(v: string): number {
  let ms = parsed.get(v);
  if (ms === undefined) {
    if (parsed.size >= 10_000) parsed.clear();
    parsed.set(v, (ms = Date.parse(v)));
  }
  return ms;
}

// A growable scratch buffer shared by every call (encoding is synchronous); each answer is copied out.
let scratch = Buffer.allocUnsafe(64 * 1024);

interface Writer {
  pos: number;
  finish(): Buffer;
}

function writer(): Writer {
  return {
    pos: 0,
    finish() {
      const out = Buffer.allocUnsafe(this.pos);
      scratch.copy(out, 0, 0, this.pos);
      return out;
    },
  };
}

function room(w: Writer, bytes: number): void {
  if (w.pos + bytes <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, w.pos + bytes));
  scratch.copy(bigger, 0, 0, w.pos);
  scratch = bigger;
}

/** A non-negative integer below 2^53 as a varint. */
function varint(w: Writer, n: number): void {
  room(w, 10);
  while (n >= 0x80) {
    scratch[w.pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  scratch[w.pos++] = n;
}

/** A negative int32/int64 as protobuf writes it: the 64-bit two's complement as a varint, ten bytes (protobufjs's writeVarint64). */
function negative(w: Writer, n: number): void {
  room(w, 10);
  let lo = n >>> 0;
  let hi = Math.floor(n / 0x1_0000_0000) >>> 0;
  while (hi) {
    scratch[w.pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 0x7f) {
    scratch[w.pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  scratch[w.pos++] = lo;
}

function integer(w: Writer, kind: Kind, v: unknown): void {
  if (kind === 'bool') {
    if (typeof v !== 'boolean') throw GIVE_UP;
    varint(w, v ? 1 : 0);
    return;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw GIVE_UP;
  if (kind === 'int32' || kind === 'enum') {
    if (v < -0x8000_0000 || v > 0x7fff_ffff) throw GIVE_UP;
  } else if (kind === 'uint32') {
    if (v < 0 || v > 0xffff_ffff) throw GIVE_UP;
  } else if (kind === 'uint64' && v < 0) throw GIVE_UP;
  if (v < 0) negative(w, v);
  else varint(w, v);
}

function writeMessage(w: Writer, steps: Step[], m: Record<string, unknown>): void {
  for (const s of steps) {
    const v = m[s.name];
    if (v === undefined || v === null) continue;
    if (s.repeated) {
      if (!Array.isArray(v)) throw GIVE_UP;
      for (const item of v) {
        if (item === undefined || item === null) throw GIVE_UP;
        writeField(w, s, item);
      }
    } else writeField(w, s, v);
  }
}

function writeField(w: Writer, s: Step, v: unknown): void {
  switch (s.kind) {
    case 'string': {
      if (typeof v !== 'string') throw GIVE_UP;
      varint(w, s.tag);
      const bytes = Buffer.byteLength(v);
      varint(w, bytes);
      room(w, bytes);
      w.pos += scratch.write(v, w.pos, bytes, 'utf8');
      return;
    }
    case 'timestamp': {
      if (typeof v !== 'string') throw GIVE_UP;
      const ms = parseIso(v);
      if (Number.isNaN(ms)) throw GIVE_UP;
      const seconds = Math.floor(ms / 1000);
      const nanos = (((ms % 1000) + 1000) % 1000) * 1e6;
      varint(w, s.tag);
      // Both fields are written even when zero, as protobufjs does for a converted Timestamp.
      const start = w.pos;
      w.pos += 1; // a Timestamp's body is always shorter than 128 bytes: one length byte
      varint(w, 1 << 3);
      if (seconds < 0) negative(w, seconds);
      else varint(w, seconds);
      varint(w, 2 << 3);
      varint(w, nanos);
      scratch[start] = w.pos - start - 1;
      return;
    }
    case 'message': {
      if (typeof v !== 'object' || Array.isArray(v)) throw GIVE_UP;
      varint(w, s.tag);
      // Room for the longest length varint (5 bytes, messages are < 4 GB), then moved back if shorter.
      room(w, 5);
      const lengthAt = w.pos;
      w.pos += 5;
      writeMessage(w, s.message!, v as Record<string, unknown>);
      const length = w.pos - lengthAt - 5;
      const prefix = length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x20_0000 ? 3 : length < 0x1000_0000 ? 4 : 5;
      const end = w.pos;
      w.pos = lengthAt;
      varint(w, length);
      if (prefix < 5) scratch.copyWithin(lengthAt + prefix, lengthAt + 5, end);
      w.pos = lengthAt + prefix + length;
      return;
    }
    default:
      varint(w, s.tag);
      integer(w, s.kind, v);
  }
}

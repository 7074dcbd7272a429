// Protobuf bytes checked before they are decoded: what protobufjs would throw on, or silently read as something else, named as the field it concerns.
import { isUtf8 } from 'node:buffer';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { Descriptor } from './grpc-encode.ts';

/**
 * protobufjs (under proto-loader) reads leniently: a length past the end yields the bytes there are,
 * a field sent with another wire type is read as its declared type anyway, and what it does refuse
 * it throws as a bare RangeError that grpc-js turns into INTERNAL. This walk over the bytes refuses,
 * per the protobuf encoding rules, a truncated or overlong varint, a length past the end, field
 * number 0, groups and the reserved wire types, a known field with the wrong wire type, and — as REST
 * does for JSON — a string that is not UTF-8 or holds NUL (UTF-8 that is valid has no lone surrogate).
 * Unknown fields are skipped, as the rules require. One pass, no copy: a path string is built only for a
 * nested message or a problem.
 */
export interface WireProblem {
  /** Dotted path, as validation errors name fields (`threads.0.message`); empty for the message itself. */
  field: string;
  message: string;
}

export type WireCheck = (bytes: Buffer) => WireProblem | undefined;

type Kind = 'varint' | 'fixed64' | 'fixed32' | 'string' | 'bytes' | 'message';
interface Field {
  name: string;
  kind: Kind;
  /** The wire type the kind is written with. */
  wire: number;
  repeated: boolean;
  message?: () => Plan;
}
type Plan = Map<number, Field>;

const KINDS: Record<string, Kind> = {
  TYPE_INT32: 'varint',
  TYPE_INT64: 'varint',
  TYPE_UINT32: 'varint',
  TYPE_UINT64: 'varint',
  TYPE_SINT32: 'varint',
  TYPE_SINT64: 'varint',
  TYPE_BOOL: 'varint',
  TYPE_ENUM: 'varint',
  TYPE_FIXED64: 'fixed64',
  TYPE_SFIXED64: 'fixed64',
  TYPE_DOUBLE: 'fixed64',
  TYPE_FIXED32: 'fixed32',
  TYPE_SFIXED32: 'fixed32',
  TYPE_FLOAT: 'fixed32',
  TYPE_STRING: 'string',
  TYPE_BYTES: 'bytes',
  TYPE_MESSAGE: 'message',
};
const WIRE: Record<Kind, number> = { varint: 0, fixed64: 1, fixed32: 5, string: 2, bytes: 2, message: 2 };
const MAX_DEPTH = 100;
const TEXT = 'must be valid UTF-8 without NUL characters (no unpaired UTF-16 surrogates)';

/** The check of one message type, given as the descriptor proto-loader attaches to an rpc (`requestType.type`). */
export function wireCheck(pkg: PackageDefinition, message: Descriptor): WireCheck {
  const plans = new Map<string, Plan>();
  const planOf = (type: Descriptor, name: string): Plan => {
    let plan = plans.get(name);
    if (plan) return plan;
    plans.set(name, (plan = new Map()));
    for (const f of type.field ?? []) {
      const kind = KINDS[f.type];
      // A group (or a type this table does not know) is left out: its bytes are then skipped as unknown, and groups are refused anyway.
      if (!kind) continue;
      const inner = f.typeName?.replace(/^\./, '');
      const nested = kind === 'message' ? (pkg[inner] as unknown as { type?: Descriptor } | undefined)?.type : undefined;
      plan.set(f.number, {
        name: f.name,
        kind,
        wire: WIRE[kind],
        repeated: f.label === 'LABEL_REPEATED',
        message: nested ? () => planOf(nested, inner) : undefined,
      });
    }
    return plan;
  };
  const root = planOf(message, '');
  return (bytes) => walk(bytes, 0, bytes.length, root, 0);
}

// The value of the varint last read by `varint` (exact up to 2^53, which is all a length or a tag needs).
let value = 0;

/** Reads a varint at `pos`; the position after it, or -1 when it is truncated or longer than 10 bytes. */
function varint(buf: Buffer, pos: number, end: number): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return -1;
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      value = result;
      return pos;
    }
    scale *= 128;
  }
  return -1;
}

/** `threads.0.message`: an unknown field by its number (`#15`), a repeated one with its index. */
function fieldPath(path: string, number: number, field: Field | undefined, counts: Map<number, number> | undefined): string {
  const name = !field ? `#${number}` : field.repeated ? `${field.name}.${counts!.get(number)! - 1}` : field.name;
  return path ? `${path}.${name}` : name;
}

function walk(buf: Buffer, pos: number, end: number, plan: Plan, depth: number, path = ''): WireProblem | undefined {
  if (depth > MAX_DEPTH) return { field: path, message: `nested deeper than ${MAX_DEPTH} messages` };
  let counts: Map<number, number> | undefined;
  while (pos < end) {
    pos = varint(buf, pos, end);
    if (pos < 0 || value > 0xffff_ffff) return { field: path, message: 'truncated or overlong field tag' };
    const number = Math.floor(value / 8);
    const wire = value % 8;
    const field = plan.get(number);
    if (field?.repeated) (counts ??= new Map()).set(number, (counts.get(number) ?? 0) + 1);
    // The field's path is built only for a problem (and for a nested message to look into).
    const name = () => fieldPath(path, number, field, counts);
    if (number === 0) return { field: path, message: 'field number 0' };
    // Where a length-delimited field's body starts (the others have none to look into).
    let body = pos;
    switch (wire) {
      case 0:
        pos = varint(buf, pos, end);
        if (pos < 0) return { field: name(), message: 'truncated or overlong varint' };
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2:
        body = varint(buf, pos, end);
        if (body < 0) return { field: name(), message: 'truncated or overlong length' };
        pos = body + value;
        break;
      default:
        return { field: name(), message: `wire type ${wire} (groups and reserved types are not accepted)` };
    }
    if (pos > end) return { field: name(), message: 'runs past the end of the message' };
    if (!field) continue;
    if (wire !== field.wire) {
      // proto3 packs repeated numbers into one length-delimited field; either form is valid.
      if (wire === 2 && field.repeated && field.wire !== 2 && packedOk(buf, body, pos, field.kind)) continue;
      return { field: name(), message: `wire type ${wire} where a ${field.kind} belongs` };
    }
    if (field.kind === 'string') {
      const text = buf.subarray(body, pos);
      if (text.includes(0) || !isUtf8(text)) return { field: name(), message: TEXT };
    } else if (field.kind === 'message' && field.message) {
      const inner = walk(buf, body, pos, field.message(), depth + 1, name());
      if (inner) return inner;
    }
  }
  return undefined;
}

/** A packed run of numbers: varints back to back, or whole fixed-size values, filling it exactly. */
function packedOk(buf: Buffer, pos: number, end: number, kind: Kind): boolean {
  if (kind === 'fixed64') return (end - pos) % 8 === 0;
  if (kind === 'fixed32') return (end - pos) % 4 === 0;
  while (pos < end) {
    pos = varint(buf, pos, end);
    if (pos < 0) return false;
  }
  return true;
}

/** What a checked deserializer hands on in place of a message that failed: grpc-js would answer a throw with INTERNAL. */
export class Malformed {
  constructor(readonly problem: WireProblem) {}
}

/** `decode` (proto-loader's deserializer) behind `check`: a message, or Malformed — never a throw. */
export function checkedDeserializer(check: WireCheck, decode: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    const problem = check(bytes);
    if (problem) return new Malformed(problem);
    try {
      return decode(bytes);
    } catch (err) {
      return new Malformed({ field: '', message: (err as Error).message });
    }
  };
}

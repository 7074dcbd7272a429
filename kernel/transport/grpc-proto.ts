// A contract's .proto loaded once (proto-loader, no protoc): its service definition and the codec between facade and wire objects.
import { dirname } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import type { Contract, ProtoBinding } from '../contract.ts';

/**
 * Field names as written in the .proto (the facade's snake_case), 64-bit integers as JS numbers
 * (ids and counts stay far below 2^53), enums by name, unset scalars as their proto3 defaults:
 * a facade object and a decoded message have the same shape except for Timestamps.
 */
export const LOADER_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, defaults: true, arrays: true };

const TIMESTAMP = 'google.protobuf.Timestamp';

/** `getProjectThreads` → `GetProjectThreads`. */
export const rpcName = (method: string) => method[0].toUpperCase() + method.slice(1);

type Convert = (value: any) => any;

export interface LoadedService {
  binding: ProtoBinding;
  packageDefinition: PackageDefinition;
  definition: ServiceDefinition;
  /** Per contract method: facade object ↔ message object, for the request and the response. */
  codecs: Record<string, { requestToWire: Convert; requestFromWire: Convert; responseToWire: Convert; responseFromWire: Convert }>;
}

const loaded = new Map<string, LoadedService>();

/** Loads (once per file and service) the service a contract is bound to; throws when a method has no rpc. */
export function loadService(contract: Contract): LoadedService {
  const binding = contract.proto;
  if (!binding) throw new Error(`${contract.role} has no .proto`);
  const key = `${binding.file}#${binding.service}`;
  const cached = loaded.get(key);
  if (cached) return cached;
  const packageDefinition = loadSync(binding.file, { ...LOADER_OPTIONS, includeDirs: [dirname(binding.file)] });
  const definition = packageDefinition[binding.service] as ServiceDefinition | undefined;
  // Messages and enums carry a `format`; a service is a map of method definitions.
  if (!definition || 'format' in definition) throw new Error(`${binding.file} has no service ${binding.service}`);
  const codecs: LoadedService['codecs'] = {};
  for (const method of Object.keys(contract.methods)) {
    const rpc = definition[rpcName(method)];
    if (!rpc) throw new Error(`${contract.role}.${method}: ${binding.service} in ${binding.file} has no rpc ${rpcName(method)}`);
    const { requestType, responseType } = rpc as unknown as { requestType: Described; responseType: Described };
    const request = requestType.type.field ?? [];
    const response = responseType.type.field ?? [];
    codecs[method] = {
      requestToWire: converter(packageDefinition, request, 'toWire'),
      requestFromWire: converter(packageDefinition, request, 'fromWire'),
      responseToWire: converter(packageDefinition, response, 'toWire'),
      responseFromWire: converter(packageDefinition, response, 'fromWire'),
    };
  }
  const service = { binding, packageDefinition, definition, codecs };
  loaded.set(key, service);
  return service;
}

/** proto-loader adds each rpc's message definitions, whose `type` is the message's DescriptorProto. */
interface Described {
  type: { name: string; field?: Field[] };
}

interface Field {
  name: string;
  type: string;
  typeName: string;
  label: string;
}

function fieldsOf(pkg: PackageDefinition, name: string): Field[] {
  const entry = pkg[name] as unknown as Described | undefined;
  return entry?.type.field ?? [];
}

/**
 * The one difference between facade and wire: a Timestamp is an ISO-8601 string in the facade
 * (what HTTP carries, what zod checks) and `{seconds, nanos}` on the wire. Built once per message,
 * walking nested messages; a message without Timestamps converts as the identity.
 */
function converter(pkg: PackageDefinition, fields: Field[], direction: 'toWire' | 'fromWire', seen = new Set<string>()): Convert {
  const steps: Array<[string, boolean, Convert]> = [];
  for (const f of fields) {
    if (f.type !== 'TYPE_MESSAGE') continue;
    const repeated = f.label === 'LABEL_REPEATED';
    const typeName = f.typeName.replace(/^\./, '');
    if (typeName === TIMESTAMP) steps.push([f.name, repeated, direction === 'toWire' ? isoToTimestamp : timestampToIso]);
    else if (!seen.has(typeName)) {
      // Nested types are named fully qualified, as the package definition keys them.
      const inner = converter(pkg, fieldsOf(pkg, typeName), direction, new Set([...seen, typeName]));
      if (inner !== identity) steps.push([f.name, repeated, inner]);
    }
  }
  if (!steps.length) return identity;
  const convert: Convert = (value) => {
    if (value === null || typeof value !== 'object') return value;
    const out = { ...value };
    for (const [name, repeated, convert] of steps) {
      const v = out[name];
      if (v === undefined) continue;
      out[name] = repeated && Array.isArray(v) ? v.map(convert) : convert(v);
    }
    return out;
  };
  // A frozen object whose converted fields are all Timestamps (scalars in, scalars out) can never
  // convert differently: convert it once. A role that serves the same frozen objects again (a page
  // cache) pays nothing here; anything else is converted per call as before.
  if (!steps.every(([, , c]) => c === isoToTimestamp || c === timestampToIso)) return convert;
  const memo = new WeakMap<object, unknown>();
  return (value) => {
    if (value === null || typeof value !== 'object' || !Object.isFrozen(value)) return convert(value);
    let out = memo.get(value);
    if (out === undefined) memo.set(value, (out = deepFreeze(convert(value))));
    return out;
  };
}

/** Freezes a converted leaf message and its Timestamps, so what the memo hands out stays as converted. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') for (const v of Object.values(value)) if (v && typeof v === 'object') Object.freeze(v);
  return Object.freeze(value);
}

const identity: Convert = (v) => v;

function isoToTimestamp(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  return { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1e6 };
}

/** An unset Timestamp (null) becomes undefined, so an optional facade field is simply absent. */
function timestampToIso(value: any): unknown {
  if (value === null || value === undefined) return undefined;
  const ms = Number(value.seconds ?? 0) * 1000 + Math.floor(Number(value.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

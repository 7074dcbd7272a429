// A role's facade described once (name, zod input, zod output); transports derive calls from it.
import type { z } from 'zod';
import { checkRoleName } from './names.ts';

export interface MethodSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  /** Safe to retry after a timeout or a lost connection (the HTTP client retries only these). */
  idempotent?: boolean;
  summary?: string;
}

export interface Contract<M extends Record<string, MethodSpec> = Record<string, MethodSpec>> {
  /** `module.role`, e.g. `events.storage`. */
  readonly role: string;
  readonly methods: M;
  /** Also a gRPC service (kernel/transport/grpc-*.ts): served on GRPC_PORT, called over grpc(s):// URLs. */
  readonly proto?: ProtoBinding;
}

/** A contract's .proto: the file (absolute path) and the service in it; each method's rpc is its name in PascalCase. */
export interface ProtoBinding {
  file: string;
  service: string;
}

/** The callable shape of a contract: what an implementation provides and what a client offers. */
export type Facade<C extends Contract> = {
  [K in keyof C['methods']]: (input: z.input<C['methods'][K]['input']>) => Promise<z.output<C['methods'][K]['output']>>;
};

export function defineContract<M extends Record<string, MethodSpec>>(role: string, methods: M, opts: { proto?: ProtoBinding } = {}): Contract<M> {
  checkRoleName('a contract', role);
  return opts.proto ? { role, methods, proto: opts.proto } : { role, methods };
}

/**
 * An event topic described once, as a contract describes a call: its name (`module.event`) and the zod schema of its
 * payload. Publishing type-checks the payload against it; a handler receives the payload parsed by it.
 */
export interface Topic<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly payload: S;
}

/** `module.event`: the publishing module's name, then the event's in snake_case (`shop.order_created`). */
const TOPIC_NAME = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$/;

export function defineTopic<S extends z.ZodType>(name: string, payload: S): Topic<S> {
  if (!TOPIC_NAME.test(name)) throw new Error(`a topic must be named 'module.event' (${TOPIC_NAME}), got "${name}"`);
  return { name, payload };
}

export function method<I extends z.ZodType, O extends z.ZodType>(spec: MethodSpec<I, O>): MethodSpec<I, O> {
  return spec;
}

/** How a call reaches a role that lives in another process: one per protocol (kernel/transport/: HTTP, gRPC). */
export interface Transport {
  /** The method's output, checked against the contract: an answer outside it is 502 ROLE_INVALID_ANSWER, naming the field. */
  call(contract: Contract, method: string, input: unknown): Promise<unknown>;
  close?(): Promise<void>;
}

/** A facade whose every method goes through `transport`, which checks the output (once, as `Transport.call` says). */
export function remoteFacade<C extends Contract>(contract: C, transport: Transport): Facade<C> {
  const facade: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, spec] of Object.entries(contract.methods)) {
    facade[name] = (input) => transport.call(contract, name, spec.input.parse(input));
  }
  return facade as Facade<C>;
}

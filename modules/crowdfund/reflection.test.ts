// gRPC server reflection as grpcurl uses it (`list`, `describe`, a call by name), over mutual TLS, by the names the
// .proto files declare: the package-less ThreadsService and the packaged grpc.health.v1.Health.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  type ClientDuplexStream,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync } from '@grpc/proto-loader';
import { ENGINES } from '../../kernel/testing/index.ts';
import { LOADER_OPTIONS } from '../../kernel/transport/grpc-proto.ts';
import { certificates, type Crowdfund, startCrowdfund } from './testing/index.ts';

const REFLECTION_PROTO = new URL('../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto', import.meta.url).pathname;

describe('gRPC reflection by the names the protos declare', () => {
  let app: Crowdfund;
  let reflection: InstanceType<ServiceClientConstructor>;
  const creds = () => {
    const c = certificates();
    return credentials.createSsl(readFileSync(c.ca), readFileSync(c.clientKey), readFileSync(c.clientCert));
  };

  before(async () => {
    app = await startCrowdfund(ENGINES[0]);
    // The client grpcurl is: built from the reflection proto alone.
    const pkg = loadPackageDefinition(loadSync(REFLECTION_PROTO, LOADER_OPTIONS)) as any;
    reflection = new (pkg.grpc.reflection.v1.ServerReflection as ServiceClientConstructor)(`127.0.0.1:${app.grpcPort}`, creds());
  });
  after(async () => {
    reflection?.close();
    await app?.close();
  });

  /** One request on the reflection stream, its one answer. */
  function ask(request: object): Promise<any> {
    return new Promise((resolve, reject) => {
      const stream = (reflection as any).ServerReflectionInfo() as ClientDuplexStream<object, any>;
      stream.once('data', (answer) => {
        resolve(answer);
        stream.end();
      });
      stream.once('error', reject);
      stream.write(request);
    });
  }

  /** `describe <symbol>`: the file declaring it and its imports, as a package definition a client is made from. */
  async function describeSymbol(symbol: string) {
    const answer = await ask({ file_containing_symbol: symbol });
    assert.ok(!answer.error_response, `${symbol}: ${answer.error_response?.error_message}`);
    const files: Buffer[] = answer.file_descriptor_response.file_descriptor_proto;
    // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`: each file as field 1, length-delimited.
    const set = Buffer.concat(files.flatMap((f) => [Buffer.from([0x0a]), varint(f.length), f]));
    return loadPackageDefinition(loadFileDescriptorSetFromBuffer(set, LOADER_OPTIONS)) as GrpcObject;
  }

  it('lists every service under its declared name (list)', async () => {
    const names: string[] = (await ask({ list_services: '' })).list_services_response.service.map((s: { name: string }) => s.name);
    for (const name of ['ThreadsService', 'grpc.health.v1.Health']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.deepEqual(
      names.filter((n) => n.startsWith('.')),
      [],
    );
  });

  it('describes ThreadsService, its methods and messages by their names, and calls it by name', async () => {
    for (const symbol of ['ThreadsService', 'ThreadsService.GetProjectThreads', 'Thread', 'ThreadType', '.ThreadsService']) {
      const answer = await ask({ file_containing_symbol: symbol });
      assert.ok(!answer.error_response, `${symbol}: ${answer.error_response?.error_message}`);
    }
    const pkg = await describeSymbol('ThreadsService');
    const Threads = pkg.ThreadsService as ServiceClientConstructor;
    assert.ok(Threads, 'the reflected file declares ThreadsService');
    const threads = new Threads(`127.0.0.1:${app.grpcPort}`, creds());
    // No such project: the service's own answer, so the call reached it by the reflected names and encoding.
    const answer = await call(threads, 'GetProjectThreads', { project_id: 424242 });
    threads.close();
    assert.equal(answer.err?.code, 5, answer.err?.message);
    assert.deepEqual(answer.err?.metadata.get('cantons-error-code'), ['PROJECT_NOT_FOUND']);
  });

  it('describes grpc.health.v1.Health and calls Check by name', async () => {
    const pkg = (await describeSymbol('grpc.health.v1.Health')) as any;
    const health = new (pkg.grpc.health.v1.Health as ServiceClientConstructor)(`127.0.0.1:${app.grpcPort}`, creds());
    const answer = await call(health, 'Check', { service: '' });
    health.close();
    assert.equal(answer.value?.status, 'SERVING', answer.err?.message);
  });

  it('answers NOT_FOUND for a name no proto declares', async () => {
    const answer = await ask({ file_containing_symbol: 'NoSuchService' });
    assert.equal(answer.error_response.error_code, 5);
  });
});

function varint(n: number): Buffer {
  const bytes: number[] = [];
  for (; n > 0x7f; n >>>= 7) bytes.push((n & 0x7f) | 0x80);
  bytes.push(n);
  return Buffer.from(bytes);
}

const call = (client: any, rpc: string, request: object) =>
  new Promise<{ err: ServiceError | null; value: any }>((resolve) =>
    client[rpc](request, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, value: any) => resolve({ err, value })),
  );

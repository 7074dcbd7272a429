// The wire check alone: everything protobufjs writes passes, packed or not; each kind of malformed bytes is named at its field.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadSync } from '@grpc/proto-loader';
import type { Descriptor } from './grpc-encode.ts';
import { LOADER_OPTIONS } from './grpc-proto.ts';
import { wireCheck } from './grpc-wire.ts';

const THREADS_PROTO = new URL('../../modules/crowdfund/threads.proto', import.meta.url).pathname;
const pkg = loadSync(THREADS_PROTO, LOADER_OPTIONS);
const type = (name: string) => pkg[name] as unknown as { type: Descriptor; serialize(v: unknown): Buffer };
const check = (name: string, bytes: Buffer | number[]) => wireCheck(pkg, type(name).type)(Buffer.from(bytes));

it('passes what protobufjs writes: nested and repeated messages, Timestamps, packed numbers, long text, emoji', () => {
  const thread = { thread_id: 2 ** 40, project_id: 1, thread_type: 2, message: 'héllo 😀 '.repeat(500), created_at: { seconds: -5, nanos: 999 } };
  const cases: Array<[string, unknown]> = [
    ['GetProjectThreadsRequest', { project_id: 1, limit: -1, thread_types: [0, 1, 2], cursor: 'Mg' }],
    ['UpdateThreadsRequest', { project_id: 1, threads: [thread, { ...thread, message: '' }] }],
    ['CountThreadsRequest', { project_ids: [1, 2 ** 50] }],
    ['GetProjectThreadsResponse', { threads: [thread], next_cursor: '' }],
    ['VoteRequest', {}],
  ];
  for (const [name, value] of cases) assert.equal(check(name, type(name).serialize(value)), undefined, name);
  // The same numbers unpacked (proto2 style, or another encoder): valid too.
  assert.equal(check('GetProjectThreadsRequest', [0x08, 0x01, 0x18, 0x01, 0x18, 0x02]), undefined);
});

it('names each kind of malformed bytes at its field', () => {
  const cases: Array<[string, number[], string, RegExp]> = [
    ['GetProjectThreadsRequest', [0x08, 0xff], 'project_id', /truncated or overlong varint/],
    ['GetProjectThreadsRequest', [0x08, ...Array(10).fill(0xff), 0x01], 'project_id', /truncated or overlong varint/],
    ['GetProjectThreadsRequest', [0x22, 0x10, 0x41], 'cursor', /runs past the end/],
    ['GetProjectThreadsRequest', [0x0a, 0x01, 0x41], 'project_id', /wire type 2 where a varint belongs/],
    ['GetProjectThreadsRequest', [0x1a, 0x02, 0x01, 0xff], 'thread_types.0', /wire type 2 where a varint belongs/],
    ['GetProjectThreadsRequest', [0x20, 0x05], 'cursor', /wire type 0 where a string belongs/],
    ['GetProjectThreadsRequest', [0x0b, 0x0c], 'project_id', /wire type 3/],
    ['GetProjectThreadsRequest', [0x00, 0x01], '', /field number 0/],
    ['GetProjectThreadsRequest', [0x7f, 0x01], '#15', /wire type 7/],
    ['UpdateThreadsRequest', [0x12, 0x02, 0x22, 0x05], 'threads.0.message', /runs past the end/],
    ['UpdateThreadsRequest', [0x12, 0x00, 0x12, 0x05, 0x2a, 0x05, 0x08, 0x01, 0x10], 'threads.1.created_at', /runs past the end/],
    ['UpdateThreadsRequest', [0x12, 0x05, 0x2a, 0x03, 0x08, 0x01, 0x12], 'threads.0.created_at.nanos', /truncated or overlong length/],
    ['UpdateThreadsRequest', [0x12, 0x03, 0x22, 0x01, 0x00], 'threads.0.message', /NUL/],
    ['UpdateThreadsRequest', [0x12, 0x05, 0x22, 0x03, 0xed, 0xa0, 0x80], 'threads.0.message', /valid UTF-8/],
  ];
  for (const [name, bytes, field, message] of cases) {
    const problem = check(name, bytes);
    assert.equal(problem?.field, field, `${name} ${Buffer.from(bytes).toString('hex')}: ${JSON.stringify(problem)}`);
    assert.match(problem!.message, message);
  }
  // An unknown field of any valid wire type is skipped.
  assert.equal(check('GetProjectThreadsRequest', [0x08, 0x01, 0x79, 1, 2, 3, 4, 5, 6, 7, 8, 0x7d, 1, 2, 3, 4, 0x7a, 0x01, 0x00]), undefined);
});

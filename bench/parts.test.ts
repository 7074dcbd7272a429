// The progress line's "part k of n, ETA": n learnt from the round labels, the ETA from the pace so far.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clock, PartCounter } from './parts.ts';

test('round 1 says "part k" and a floor of the ETA; from round 2 on "part k of n" and an ETA at the pace so far', () => {
  let now = 0;
  const parts = new PartCounter(3, () => now);
  const tails = ['a #1', 'b #1', 'a #2', 'b #2', 'a #3', 'b #3'].map((label) => {
    const tail = parts.start(label);
    now += 10_000; // each part: 10 s, measured or not
    return tail;
  });
  now = 25_000; // 5 s into part 3
  assert.deepEqual(
    tails.map((t) => t()),
    [
      '  part 1, round 1 of 3, ETA > 50s', // 25 s into round 1: the two rounds after it take at least as long
      '  part 2, round 1 of 3, ETA > 50s',
      '  part 3 of 6, ETA 35s',
      '  part 4 of 6, ETA 35s',
      '  part 5 of 6, ETA 35s',
      '  part 6 of 6, ETA 35s',
    ],
  );
  now = 60_000;
  assert.equal(parts.start('a last check')(), '  part 7 of 7, ETA 10s'); // one part's pace left
});

test('one round: no total to learn', () => {
  const parts = new PartCounter(1, () => 0);
  assert.equal(parts.start('a')(), '  part 1');
  assert.equal(parts.start('b')(), '  part 2');
});

test('clock', () => {
  assert.deepEqual([clock(44_600), clock(185_000), clock(3_720_000), clock(-5)], ['45s', '3m05s', '1h02m', '0s']);
});

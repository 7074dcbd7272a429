// npm run split: compose.yaml's topology as local processes, each module's smoke test across it, everything stopped after.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { gate } from '../kernel/testing/index.ts';
import { runSplit } from './split.ts';

const MODULES = ['events', 'shop', 'cache', 'crowdfund', 'benchmark'];

it(
  `npm run split: every service of compose.yaml starts, the ${MODULES.join(', ')} smoke tests pass across them, all stop with 0`,
  await gate('postgres', 'redis', 'etcd'),
  async () => {
    const lines: string[] = [];
    await runSplit([], (line) => lines.push(line));
    const text = lines.join('\n');
    for (const m of MODULES) assert.match(text, new RegExp(`^  smoke ${m}: all steps passed$`, 'm'));
    assert.equal((text.match(/^ {2}smoke cache: all steps passed$/gm) ?? []).length, 3, 'each cache instance');
    assert.doesNotMatch(text, /a process exited/);
  },
);

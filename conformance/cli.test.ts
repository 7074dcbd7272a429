// The commands' refusals: --help and a wrong name answer at once, exit 0 or 2, and start nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

/** Runs `npm run <script> -- args` as node does for it; a command that started a topology would take seconds, not this. */
function run(script: 'conformance' | 'split', ...args: string[]) {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', `conformance/${script === 'split' ? 'split' : 'cli'}.ts`, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

/** Nothing started: no line of a launch (`topology 1: …`, a process URL, `gateway …`). */
const startedNothing = (out: string) => !/^ *(topology \d|[\w-]+ +http:\/\/127|gateway |run cantons_)/m.test(out);

describe('npm run conformance', () => {
  it('--help prints the usage with every topology and exits 0, starting nothing', () => {
    const r = run('conformance', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^npm run conformance/);
    for (const n of [1, 2, 3, 4, 5]) assert.match(r.stdout, new RegExp(`^  ${n}  `, 'm'));
    assert.ok(startedNothing(r.stdout));
  });

  for (const [args, message] of [
    [['--topologies', '1,9'], /unknown topology 9; valid: 1, 2, 3, 4, 5/],
    [['--modules', 'shop,nope'], /unknown module nope; valid: events, shop, cache, crowdfund, benchmark/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--load-seconds', 'soon'], /--load-seconds must be a number ≥ 0/],
  ] as const) {
    it(`${args.join(' ')}: exit 2 naming the valid choices, nothing started`, () => {
      const r = run('conformance', ...args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});

describe('npm run split', () => {
  it('--help prints the usage and exits 0, starting nothing', () => {
    const r = run('split', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--serve/);
    assert.ok(startedNothing(r.stdout));
  });

  for (const [args, message] of [
    [['nope'], /split: unknown module nope; valid: events, shop, cache, crowdfund, benchmark/],
    [['--topology', '6', '--serve'], /split: unknown topology 6; valid: 1, 2, 3, 4, 5/],
    [['--serve', 'shop'], /--serve runs no smoke test/],
  ] as const) {
    it(`${args.join(' ')}: exit 2, nothing started`, () => {
      const r = run('split', ...args);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.ok(startedNothing(r.stdout), r.stdout);
    });
  }
});

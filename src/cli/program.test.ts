// The command tree loads only the verbs a command line needs, and still answers like the whole tree.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_KINDS } from '../api/kinds.js';
import { createKindRegistry } from '../api/kind.js';
import { createProgram, runCli, verbsFor } from './program.js';
import { VERB_SUMMARIES } from './verb-summaries.js';
import type { CliIO } from './output.js';

function io(): { io: CliIO; out: () => string } {
  let out = '';
  return { io: { stdout: (s) => void (out += s), stderr: (s) => void (out += s), stdin: () => Promise.resolve(''), cwd: process.cwd(), setExitCode: () => undefined }, out: () => out };
}

const registry = createKindRegistry(ALL_KINDS);

describe('the isthmus command tree', () => {
  it('loads only the verb the first word names (its aliases too), none for --version, a verb a later word names, else only summaries', () => {
    for (const [argv, n] of [
      [['validate', '-f', 'x'], 1],
      [['pc', 'routes'], 1],
      [['x', 'metrics', 'a'], 5],
      [['--version'], 0],
      [['help', 'analyze'], 1],
      [['--help'], 'summaries'],
      [['valdate'], 'summaries'],
      [[], 'summaries'],
    ] as const) {
      const verbs = verbsFor(argv);
      assert.equal(verbs === 'summaries' ? verbs : verbs.length, n, argv.join(' '));
    }
  });

  it('prints top-level help from the verbs’ summaries exactly as the verbs themselves list (verb-summaries.ts)', async () => {
    const fast = io();
    assert.equal(await runCli(['--help'], { io: fast.io, registry }), 0);
    const full = await createProgram({ io: io().io, registry });
    assert.equal(fast.out(), full.helpInformation(), 'a verb changed its name, arguments or description: update its entry in verb-summaries.ts');
  });

  it('every command top-level help lists loads its verb when a command line names it (its name or an alias)', () => {
    for (const s of VERB_SUMMARIES) {
      for (const word of [s.name, ...s.aliases]) {
        const verbs = verbsFor([word, '--help']);
        assert.ok(verbs !== 'summaries' && verbs.length > 0, `isthmus ${word}: no verb is loaded for it`);
      }
    }
  });

  it('help <verb> prints that verb’s own help', async () => {
    const out = io();
    assert.equal(await runCli(['help', 'analyze'], { io: out.io, registry }), 0);
    assert.match(out.out(), /^Usage: isthmus analyze \[options\] <paths\.\.\.>/);
    assert.match(out.out(), /--output/);
  });

  it('registers the named verb with its real options', async () => {
    const p = await createProgram({ io: io().io, registry }, ['proxy-config', 'routes']);
    assert.deepEqual(p.commands.map((c) => c.name()), ['proxy-config']);
    assert.ok(p.commands[0]?.commands.some((c) => c.name() === 'routes'));
  });

  it('lists every verb in top-level help, and suggests the verb a typo meant', async () => {
    const help = io();
    assert.equal(await runCli(['--help'], { io: help.io, registry }), 0);
    for (const verb of ['validate', 'analyze', 'proxy-status', 'proxy-config|pc', 'dashboard|dash', 'x|experimental', 'wasm', 'up']) assert.match(help.out(), new RegExp(`\\n  ${verb.replace('|', '\\|')}`), verb);
    const typo = io();
    assert.equal(await runCli(['analyse'], { io: typo.io, registry }), 64);
    assert.match(typo.out(), /Did you mean analyze\?/);
  });
});

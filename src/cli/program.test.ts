// The command tree loads only the verbs a command line needs, and still answers like the whole tree.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_KINDS } from '../api/kinds.js';
import { createKindRegistry } from '../api/kind.js';
import { createProgram, runCli, verbsFor } from './program.js';
import type { CliIO } from './output.js';

function io(): { io: CliIO; out: () => string } {
  let out = '';
  return { io: { stdout: (s) => void (out += s), stderr: (s) => void (out += s), stdin: () => Promise.resolve(''), cwd: process.cwd(), setExitCode: () => undefined }, out: () => out };
}

const registry = createKindRegistry(ALL_KINDS);

describe('the isthmus command tree', () => {
  it('loads only the verb the first word names (its aliases too), none for --version, all otherwise', () => {
    const all = verbsFor([]).length;
    for (const [argv, n] of [
      [['validate', '-f', 'x'], 1],
      [['pc', 'routes'], 1],
      [['x', 'metrics', 'a'], 5],
      [['--version'], 0],
      [['--help'], all],
      [['valdate'], all],
    ] as const) {
      assert.equal(verbsFor(argv).length, n, argv.join(' '));
    }
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

// The governor as the proxy's entry points start it: only over settings the proxy made itself,
// and never keeping a process alive once its work is done.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startHeapGovernor } from './heap-governor.js';
import { tsImport } from '../../test/support/ts-import.js';

const GROWTH_OFF = '--semi-space-growth-factor=1';

describe('startHeapGovernor', () => {
  it('starts only when the proxy applied a governed setting (not when the command line chose them all)', () => {
    assert.equal(startHeapGovernor([]), undefined);
    assert.equal(startHeapGovernor(['--no-parallel-scavenge']), undefined);
    for (const applied of [[GROWTH_OFF], ['--heap-growing-percent=10'], [GROWTH_OFF, '--heap-growing-percent=10']]) {
      const stop = startHeapGovernor(applied);
      assert.equal(typeof stop, 'function', applied.join(' '));
      stop?.();
    }
  });

  it('does not hold a process open: one that started it and has nothing else to do exits', () => {
    const module = fileURLToPath(new URL('./heap-governor.ts', import.meta.url));
    // The child keeps itself busy for 6 s of its own, long enough for the governor's first look (5 s) and its
    // per-second timer to start; then it has nothing left to do. Were either timer holding it, it would run
    // on until killed.
    const program = `import(${JSON.stringify(module)}).then((m) => { m.startHeapGovernor([${JSON.stringify(GROWTH_OFF)}]); setTimeout(() => console.log('done'), 6_000); });`;
    const out = execFileSync(process.execPath, [...tsImport(), '-e', program], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(out.trim(), 'done');
  });
});

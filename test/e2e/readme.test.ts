// Keeps the README honest: the validate example in its quick tour is run as written and must print
// exactly the output the README shows.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runIsthmus } from '../support/cli.js';

describe('README', () => {
  it('starts with the two commands a newcomer runs', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.match(firstBlock, /^npm install && npm start\s/m);
    assert.match(firstBlock, /^npm test\s/m);
  });

  it('shows the real output of its validate example', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const yaml = /cat > bad\.yaml <<'YAML'\n([\s\S]*?)\nYAML\n/.exec(readme)?.[1];
    const shown = /prints every problem at once[^\n]*\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(yaml !== undefined && shown !== undefined, 'the README example was not found');
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-readme-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), yaml + '\n');
      const r = await runIsthmus(['validate', '-f', 'bad.yaml'], { cwd: dir });
      assert.equal(r.code, 1);
      assert.equal(r.stdout + r.stderr, shown);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

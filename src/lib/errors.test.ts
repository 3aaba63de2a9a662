import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, IsthmusError } from './errors.js';

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes in ERROR_CODES, with the same meaning', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(ISM_[A-Z_]+)` \| (.+?) \|$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(Object.fromEntries(rows), ERROR_CODES);
  });

  it('errors carry their code', () => {
    const e = new IsthmusError('ISM_FILE_READ', 'cannot read x');
    assert.equal(e.code, 'ISM_FILE_READ');
    assert.ok(e instanceof Error);
  });
});

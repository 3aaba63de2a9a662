import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadText } from './load.js';

describe('loadText', () => {
  it('splits multi-document YAML, skips empty documents and records the line of each', () => {
    const r = loadText('# comment\n---\napiVersion: v1\nkind: A\n---\n---\napiVersion: v1\nkind: B\nspec:\n  x:\n    - a: 1\n', 'f.yaml');
    assert.equal(r.problems.length, 0);
    assert.deepEqual(r.documents.map((d) => d.origin.line), [3, 7]);
    assert.equal(r.documents[1]?.locate('spec.x[0].a'), 11);
    assert.equal(r.documents[1]?.locate('spec.x[0].missing'), 11);
    assert.equal(r.documents[1]?.locate('spec'), 9);
  });

  it('reads JSON and expands Kubernetes List objects', () => {
    const r = loadText('{"apiVersion":"v1","kind":"List","items":[{"kind":"A"},\n{"kind":"B"}]}', 'f.json');
    assert.deepEqual(r.documents.map((d) => (d.raw as { kind: string }).kind), ['A', 'B']);
    assert.deepEqual(r.documents.map((d) => d.origin.line), [1, 2]);
  });

  it('reports YAML syntax errors with their line and keeps the other documents', () => {
    const r = loadText('kind: A\n---\nkind: [B\n---\nkind: C\n', 'f.yaml');
    assert.equal(r.problems.length > 0, true);
    assert.equal(r.problems[0]?.file, 'f.yaml');
    assert.match(r.problems[0]?.message ?? '', /^yaml: /);
    assert.deepEqual(r.documents.map((d) => (d.raw as { kind: string }).kind), ['A', 'C']);
  });

  it('rejects duplicate keys, as Kubernetes does', () => {
    const r = loadText('kind: A\nkind: B\n', 'f.yaml');
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]?.message ?? '', /unique/i);
    assert.equal(r.problems[0]?.line, 2);
  });

  it('returns nothing for an empty stream', () => {
    assert.deepEqual(loadText('', 'f.yaml'), { documents: [], problems: [] });
  });
});

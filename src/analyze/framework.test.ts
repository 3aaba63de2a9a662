// Tests for the analysis framework: diagnostic printing, ordering and de-duplication, suppressions (flag
// and annotation), namespace and level filters, internal errors, and the full default analyzer set.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeFixture, loadFixture } from '../../test/support/analyze.js';
import { SERVICE } from '../api/core/service.js';
import type { AnyKind } from '../api/kind.js';
import { VIRTUAL_SERVICE } from '../api/networking/virtual-service.js';
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from './diagnostic.js';
import { globMatch, runAnalyzersWith, type Analyzer } from './framework.js';
import { ALL_ANALYZERS, runAnalyzers } from './index.js';

const KINDS: readonly AnyKind[] = [SERVICE, VIRTUAL_SERVICE];

const VS = (name: string, ns: string, host: string, annotations = ''): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
  namespace: ${ns}${annotations}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: ${host}
---
`;

describe('diagnostics', () => {
  const d = (over: Partial<Diagnostic>): Diagnostic => ({
    code: 'IST0101',
    name: 'ReferencedResourceNotFound',
    level: 'Error',
    message: 'm',
    documentationUrl: 'https://istio.io/latest/docs/reference/config/analysis/ist0101/',
    analyzer: 'a',
    ...over,
  });
  it('prints like istioctl', () => {
    assert.equal(
      formatDiagnostic(d({ resource: { kind: 'VirtualService', namespace: 'default', name: 'reviews' }, origin: { file: 'bookinfo.yaml', line: 12 }, message: 'Referenced host not found: "reviews-bogus"' })),
      'Error [IST0101] (VirtualService default/reviews bookinfo.yaml:12) Referenced host not found: "reviews-bogus"',
    );
    assert.equal(formatDiagnostic(d({ resource: { kind: 'Namespace', name: 'frod' }, level: 'Info', code: 'IST0102' })), 'Info [IST0102] (Namespace frod) m');
    assert.equal(formatDiagnostic(d({ code: 'IST0001', message: 'Internal error: x' })), 'Error [IST0001] Internal error: x');
  });
  it('sorts by level, code, resource, then line, and removes duplicates', () => {
    const a = d({ level: 'Warning', code: 'IST0132', resource: { kind: 'VirtualService', namespace: 'a', name: 'x' } });
    const b = d({ resource: { kind: 'VirtualService', namespace: 'b', name: 'x' }, origin: { file: 'f', line: 2 } });
    const c = d({ resource: { kind: 'VirtualService', namespace: 'a', name: 'x' }, origin: { file: 'f', line: 9 } });
    const e = d({ code: 'IST0001' });
    assert.deepEqual(sortDiagnostics([a, b, c, e, c]), [e, c, b, a]);
  });
  it('matches suppression globs like go-glob', () => {
    assert.ok(globMatch('VirtualService default/*', 'VirtualService default/reviews'));
    assert.ok(globMatch('*', 'anything'));
    assert.ok(globMatch('Pod *.baz', 'Pod foo.baz'));
    assert.ok(!globMatch('Pod *.baz', 'Pod foo.bar'));
    assert.ok(globMatch('Namespace frod', 'Namespace frod'));
  });
});

describe('runAnalyzers', () => {
  const yaml = VS('reviews', 'default', 'reviews-bogus') + VS('ratings', 'other', 'ratings-bogus');

  it('runs the default analyzers and gives documentation links', () => {
    const out = analyzeFixture(yaml, KINDS, ALL_ANALYZERS);
    assert.deepEqual(out.map(formatDiagnostic), [
      'Error [IST0101] (VirtualService other/ratings test.yaml:23) Referenced host not found: "ratings-bogus"',
      'Error [IST0101] (VirtualService default/reviews test.yaml:11) Referenced host not found: "reviews-bogus"',
    ]);
    assert.equal(out[0]?.documentationUrl, 'https://istio.io/latest/docs/reference/config/analysis/ist0101/');
    assert.equal(out[0]?.analyzer, 'virtualservice.DestinationHostAnalyzer');
    const { entries, invalid } = loadFixture(yaml, KINDS);
    assert.deepEqual(runAnalyzers(entries, invalid).map(formatDiagnostic), out.map(formatDiagnostic));
  });
  it('filters by namespace, suppression and level', () => {
    assert.equal(analyzeFixture(yaml, KINDS, ALL_ANALYZERS, { namespaces: ['default'] }).length, 1);
    assert.equal(analyzeFixture(yaml, KINDS, ALL_ANALYZERS, { suppress: [{ code: 'IST0101', resource: 'VirtualService other/*' }] }).length, 1);
    assert.equal(analyzeFixture(yaml, KINDS, ALL_ANALYZERS, { suppress: [{ code: 'IST0102', resource: '*' }] }).length, 2);
    assert.equal(analyzeFixture(yaml, KINDS, ALL_ANALYZERS, { only: ['service.PortNameAnalyzer'] }).length, 0);
  });
  it('honours the galley.istio.io/analyze-suppress annotation', () => {
    const annotated = VS('reviews', 'default', 'bogus', '\n  annotations:\n    galley.istio.io/analyze-suppress: "IST0102,IST0101"');
    assert.deepEqual(analyzeFixture(annotated, KINDS, ALL_ANALYZERS), []);
  });
  it('turns an analyzer failure into IST0001', () => {
    const broken: Analyzer = {
      name: 'broken',
      description: 'throws',
      inputs: [],
      analyze() {
        throw new Error('boom');
      },
    };
    assert.deepEqual(runAnalyzersWith([broken], [], []).map(formatDiagnostic), ['Error [IST0001] Internal error: analyzer broken failed: boom']);
  });
  it('has unique analyzer names', () => {
    assert.equal(new Set(ALL_ANALYZERS.map((a) => a.name)).size, ALL_ANALYZERS.length);
  });
});

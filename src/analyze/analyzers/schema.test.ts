// Scenario tests for schema.ValidationAnalyzer: validation warnings as IST0133 (SchemaWarning), and
// configurations that must produce none of IST0106 / IST0130 / IST0131 / IST0133.
// Istio: pkg/config/analysis/analyzers/schema/validation.go (morePreciseMessage: warnings that are not
// VirtualService rule findings become NewSchemaWarning).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import type { AnyKind } from '../../api/kind.js';
import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import { SIDECAR } from '../../api/networking/sidecar.js';
import { VIRTUAL_SERVICE } from '../../api/networking/virtual-service.js';
import { schemaValidationAnalyzer } from './schema.js';

const KINDS: readonly AnyKind[] = [SERVICE_ENTRY, SIDECAR, VIRTUAL_SERVICE];
const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [schemaValidationAnalyzer]);

// Valid documents with validation warnings: a duplicated Sidecar egress host and the deprecated
// mirrorPercent of a VirtualService; the ServiceEntry is clean.
const WARNINGS = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: postgres
  namespace: data
spec:
  hosts: [db.example.com]
  ports:
  - number: 5432
    name: tcp-postgres
    protocol: TCP
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: data
spec:
  egress:
  - hosts: ["./*", "istio-system/*", "./*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: data
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
    mirror: {host: reviews-shadow}
    mirrorPercent: 5
`;

describe('schema.ValidationAnalyzer warnings', () => {
  it('reports validation warnings of valid documents as IST0133 on the field line', () => {
    assert.deepEqual(run(WARNINGS), [
      'Warning [IST0133] (Sidecar data/default test.yaml:21) Schema validation warning: spec.egress[0].hosts[2]: duplicated egress host: ./*',
      'Warning [IST0133] (VirtualService data/reviews test.yaml:34) Schema validation warning: spec.http[0].mirrorPercent: using deprecated setting "mirrorPercent", use "mirrorPercentage" instead',
    ]);
  });

  it('reports nothing once the warnings are addressed', () => {
    const fixed = WARNINGS.replace('["./*", "istio-system/*", "./*"]', '["./*", "istio-system/*"]').replace('    mirrorPercent: 5\n', '    mirrorPercentage: {value: 5}\n');
    assert.deepEqual(run(fixed), []);
  });

  it('reports both the errors (IST0106) and the warnings (IST0133) of an invalid document', () => {
    const yaml = WARNINGS.replace('    mirrorPercent: 5\n', '    mirrorPercent: 5\n    retries: {attempts: -1}\n');
    assert.deepEqual(run(yaml), [
      'Error [IST0106] (VirtualService data/reviews test.yaml:35) Schema validation error: spec.http[0].retries.attempts: attempts cannot be negative',
      'Warning [IST0133] (Sidecar data/default test.yaml:21) Schema validation warning: spec.egress[0].hosts[2]: duplicated egress host: ./*',
      'Warning [IST0133] (VirtualService data/reviews test.yaml:34) Schema validation warning: spec.http[0].mirrorPercent: using deprecated setting "mirrorPercent", use "mirrorPercentage" instead',
    ]);
  });

  it('reports distinct, ordered VirtualService matches as neither unreachable (IST0130) nor ineffective (IST0131)', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: data
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {prefix: /api/v2}
    route:
    - destination: {host: reviews, subset: v2}
  - match:
    - uri: {prefix: /api}
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v1}
  - route:
    - destination: {host: reviews, subset: v1}
`;
    assert.deepEqual(run(yaml), []);
  });
});

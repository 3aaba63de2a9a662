// Scenario tests for annotations.K8sAnalyzer (IST0107, IST0108, IST0125, IST0135) across Namespaces,
// Services, Pods and Deployments, modelled on Istio's analyzer testdata misannotated.yaml and
// deprecation.yaml (our own fixtures): each finding as the exact printed line, and the corrected
// annotations that must stay quiet.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { DEPLOYMENT } from '../../api/core/deployment.js';
import { NAMESPACE } from '../../api/core/namespace.js';
import { POD } from '../../api/core/pod.js';
import { SERVICE } from '../../api/core/service.js';
import type { AnyKind } from '../../api/kind.js';
import { annotationsAnalyzer } from './annotations.js';

const KINDS: readonly AnyKind[] = [POD, DEPLOYMENT, NAMESPACE, SERVICE];
const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [annotationsAnalyzer]);

const MISANNOTATED = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    sidecar.istio.io/proxyCPU: 200m
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
  annotations:
    networking.istio.io/exportTo: "."
    networking.istio.io/exportToo: "."
spec:
  selector: {app: cart}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Pod
metadata:
  name: cart-0
  namespace: shop
  labels: {app: cart}
  annotations:
    sidecar.istio.io/interceptionMode: TPROXY
    traffic.sidecar.istio.io/includeInboundPorts: "80,8080x"
    readiness.status.sidecar.istio.io/periodSeconds: "5"
    sidecar.istio.io/inject: "true"
spec:
  containers: [{name: cart, image: example/cart:1}]
`;

describe('annotations.K8sAnalyzer scenarios', () => {
  it('reports misplaced, unknown, invalid and deprecated annotations on their lines', () => {
    assert.deepEqual(run(MISANNOTATED), [
      'Warning [IST0107] (Namespace shop test.yaml:6) Misplaced annotation: sidecar.istio.io/proxyCPU can only be applied to Pod',
      'Warning [IST0108] (Service shop/cart test.yaml:15) Unknown annotation: networking.istio.io/exportToo',
      `Warning [IST0125] (Pod shop/cart-0 test.yaml:28) Invalid annotation traffic.sidecar.istio.io/includeInboundPorts: includeInboundPorts invalid: failed parsing port '8080x': failed parsing port '8080x': strconv.ParseUint: parsing "8080x": invalid syntax`,
      'Info [IST0135] (Pod shop/cart-0 test.yaml:30) Annotation "sidecar.istio.io/inject" has been deprecated in favor of the "sidecar.istio.io/inject" label and may not work in future Istio versions.',
    ]);
  });

  it('stays quiet once annotations are on the right kind, spelled right and valid', () => {
    const fixed = MISANNOTATED.replace('  annotations:\n    sidecar.istio.io/proxyCPU: 200m\n', '  labels:\n    istio-injection: enabled\n')
      .replace('    networking.istio.io/exportToo: "."\n', '')
      .replace('"80,8080x"', '"80,8080"')
      .replace('    sidecar.istio.io/inject: "true"\n', '    sidecar.istio.io/proxyCPU: 200m\n');
    assert.deepEqual(run(fixed), []);
  });

  it('ignores annotations outside Istio domains and kinds Istio does not check', () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  annotations:
    example.com/owner: web-team
    prometheus.io/scrape: "true"
spec:
  containers: [{name: web, image: nginx}]
`;
    assert.deepEqual(run(yaml), []);
  });
});

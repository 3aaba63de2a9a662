// Scenario tests for sidecar.SelectorAnalyzer (IST0101, IST0110, IST0111, IST0167), modelled on Istio's
// analyzer testdata sidecar-selector.yaml and sidecar-default-selector.yaml (our own fixtures): every
// finding is asserted as the exact line istioctl prints, next to similar configuration that must stay quiet.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { NAMESPACE } from '../../api/core/namespace.js';
import { POD } from '../../api/core/pod.js';
import type { AnyKind } from '../../api/kind.js';
import { SIDECAR } from '../../api/networking/sidecar.js';
import { sidecarSelectorAnalyzer } from './sidecar.js';

const KINDS: readonly AnyKind[] = [POD, NAMESPACE, SIDECAR];
const run = (yaml: string): string[] => analyzeLines(yaml, KINDS, [sidecarSelectorAnalyzer]);

// Selectors: one matching, one matching nothing, one matching only in another namespace, two pairs of
// Sidecars selecting the same pod (identical selector; overlapping selectors on different labels).
const SELECTORS = `apiVersion: v1
kind: Pod
metadata:
  name: frontend
  namespace: shop
  labels: {app: frontend}
spec:
  containers: [{name: app, image: shop/frontend:1}]
---
apiVersion: v1
kind: Pod
metadata:
  name: frontend-canary
  namespace: staging
  labels: {app: frontend}
spec:
  containers: [{name: app, image: shop/frontend:2}]
---
apiVersion: v1
kind: Pod
metadata:
  name: cart
  namespace: shop
  labels: {app: cart}
spec:
  containers: [{name: app, image: shop/cart:1}]
---
apiVersion: v1
kind: Pod
metadata:
  name: payments
  namespace: shop
  labels: {app: payments, tier: backend}
spec:
  containers: [{name: app, image: shop/payments:1}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: frontend
  namespace: shop
spec:
  workloadSelector:
    labels:
      app: frontend
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: no-such-app
  namespace: shop
spec:
  workloadSelector:
    labels:
      app: inventory
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: cart-in-staging
  namespace: staging
spec:
  workloadSelector:
    labels:
      app: cart
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: cart-a
  namespace: shop
spec:
  workloadSelector:
    labels:
      app: cart
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: cart-b
  namespace: shop
spec:
  workloadSelector:
    labels:
      app: cart
  egress:
  - hosts: ["./*", "istio-system/*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: payments-by-app
  namespace: shop
spec:
  workloadSelector:
    labels:
      app: payments
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: payments-by-tier
  namespace: shop
spec:
  workloadSelector:
    labels:
      tier: backend
  egress:
  - hosts: ["./*"]
`;

// Namespace-wide Sidecars: one per namespace is fine (even next to a selecting one); two conflict.
const DEFAULTS = `apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-b
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: team-a
spec:
  egress:
  - hosts: ["./*", "istio-system/*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: web
  namespace: team-a
spec:
  workloadSelector:
    labels: {app: web}
  egress:
  - hosts: ["./*"]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: team-a
  labels: {app: web}
spec:
  containers: [{name: web, image: nginx}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: team-b
spec:
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: legacy-default
  namespace: team-b
spec:
  egress:
  - hosts: ["*/*"]
`;

// Ambient: Sidecars have no effect on ambient pods or in ambient namespaces, unless the namespace also
// asks for sidecar injection (istio-injection=enabled or an istio.io/rev label).
const AMBIENT = `apiVersion: v1
kind: Namespace
metadata:
  name: mesh-ambient
  labels:
    istio.io/dataplane-mode: ambient
---
apiVersion: v1
kind: Pod
metadata:
  name: api-0
  namespace: mesh-ambient
  labels: {app: api}
  annotations:
    ambient.istio.io/redirection: enabled
spec:
  containers: [{name: api, image: example/api:1}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: namespace-default
  namespace: mesh-ambient
spec:
  egress:
  - hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: api
  namespace: mesh-ambient
spec:
  workloadSelector:
    labels: {app: api}
  egress:
  - hosts: ["./*"]
---
apiVersion: v1
kind: Namespace
metadata:
  name: injected
  labels:
    istio.io/dataplane-mode: ambient
    istio-injection: enabled
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: injected
spec:
  egress:
  - hosts: ["./*"]
---
apiVersion: v1
kind: Namespace
metadata:
  name: revisioned
  labels:
    istio.io/dataplane-mode: ambient
    istio.io/rev: canary
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: revisioned
spec:
  egress:
  - hosts: ["./*"]
`;

describe('sidecar.SelectorAnalyzer scenarios', () => {
  it('reports selectors matching nothing (IST0101) and pods selected twice (IST0110)', () => {
    assert.deepEqual(run(SELECTORS), [
      'Error [IST0101] (Sidecar staging/cart-in-staging test.yaml:69) Referenced selector not found: "app=cart"',
      'Error [IST0101] (Sidecar shop/no-such-app test.yaml:57) Referenced selector not found: "app=inventory"',
      'Error [IST0110] (Sidecar shop/cart-a test.yaml:76) The Sidecars [cart-a cart-b] in namespace "shop" select the same workload pod "cart", which can lead to undefined behavior.',
      'Error [IST0110] (Sidecar shop/cart-b test.yaml:88) The Sidecars [cart-a cart-b] in namespace "shop" select the same workload pod "cart", which can lead to undefined behavior.',
      'Error [IST0110] (Sidecar shop/payments-by-app test.yaml:100) The Sidecars [payments-by-app payments-by-tier] in namespace "shop" select the same workload pod "payments", which can lead to undefined behavior.',
      'Error [IST0110] (Sidecar shop/payments-by-tier test.yaml:112) The Sidecars [payments-by-app payments-by-tier] in namespace "shop" select the same workload pod "payments", which can lead to undefined behavior.',
    ]);
  });

  it('stays quiet for one Sidecar per pod, matched in its own namespace', () => {
    // Only the well-formed part: the frontend Sidecar, which also matches a same-labelled pod elsewhere.
    const docs = SELECTORS.split('\n---\n');
    const quiet = [docs[0], docs[1], docs[2], docs[3], docs[4], docs[7]].join('\n---\n');
    assert.deepEqual(run(quiet), []);
  });

  it('reports several selector-less Sidecars in one namespace (IST0111) but not one next to a selecting Sidecar', () => {
    assert.deepEqual(run(DEFAULTS), [
      'Error [IST0111] (Sidecar team-b/default test.yaml:40) The Sidecars [default legacy-default] in namespace "team-b" have no workload selector, which can lead to undefined behavior.',
      'Error [IST0111] (Sidecar team-b/legacy-default test.yaml:49) The Sidecars [default legacy-default] in namespace "team-b" have no workload selector, which can lead to undefined behavior.',
    ]);
  });

  it('reports Sidecars without effect in ambient mode (IST0167), once each, and not for injected namespaces', () => {
    assert.deepEqual(run(AMBIENT), [
      'Warning [IST0167] (Sidecar mesh-ambient/api test.yaml:28) The policy has no impact: selected workload is in ambient mode, the policy has no impact.',
      'Warning [IST0167] (Sidecar mesh-ambient/namespace-default test.yaml:19) The policy has no impact: namespace is in ambient mode, the policy has no impact.',
    ]);
  });

  it('does not report IST0167 for a pod without ambient redirection or a namespace not labelled ambient', () => {
    const yaml = AMBIENT.replace('    ambient.istio.io/redirection: enabled\n', '    example.com/owner: api-team\n').replace(
      '    istio.io/dataplane-mode: ambient\n---\napiVersion: v1\nkind: Pod',
      '    istio.io/dataplane-mode: none\n---\napiVersion: v1\nkind: Pod',
    );
    assert.deepEqual(run(yaml), []);
  });

  it('reports two ambient-pod Sidecars as ineffective rather than conflicting', () => {
    const second = `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: api-v2
  namespace: mesh-ambient
spec:
  workloadSelector:
    labels: {app: api}
  egress:
  - hosts: ["./*"]
`;
    assert.deepEqual(run(AMBIENT + second), [
      'Warning [IST0167] (Sidecar mesh-ambient/api-v2 test.yaml:74) The policy has no impact: selected workload is in ambient mode, the policy has no impact.',
      'Warning [IST0167] (Sidecar mesh-ambient/api test.yaml:28) The policy has no impact: selected workload is in ambient mode, the policy has no impact.',
      'Warning [IST0167] (Sidecar mesh-ambient/namespace-default test.yaml:19) The policy has no impact: namespace is in ambient mode, the policy has no impact.',
    ]);
  });
});

// Which config a service's and a workload's pages list, from a real config (validated YAML) and the
// snapshot the control plane builds from it: by host for the service, by selector for the policies.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKindRegistry } from '../../api/kind.js';
import { ALL_KINDS } from '../../api/kinds.js';
import { loadText } from '../../api/load.js';
import { validateDocuments } from '../../config/validate-documents.js';
import { snapshotFromConfig } from '../../model/build-snapshot.js';
import { appliedConfig } from './applied-config.js';

const REGISTRY = createKindRegistry(ALL_KINDS);

const CONFIG = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec: {selector: {app: productpage}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-fqdn, namespace: other}
spec: {host: reviews.default.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-short-elsewhere, namespace: other}
spec: {host: reviews}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: v1}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http: [{route: [{destination: {host: productpage, port: {number: 9080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews-alias, namespace: default}
spec: {hosts: [reviews.default.svc.cluster.local], location: MESH_INTERNAL, resolution: NONE, ports: [{number: 9080, name: http, protocol: HTTP}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-viewer, namespace: default}
spec: {selector: {matchLabels: {app: reviews}}, action: ALLOW, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: v2-only, namespace: default}
spec: {selector: {matchLabels: {version: v2}}, action: DENY, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: on-the-gateway-class, namespace: default}
spec: {targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: web}], action: ALLOW, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mesh-ratings, namespace: istio-system}
spec: {selector: {matchLabels: {app: reviews}}, action: ALLOW, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: other}
spec: {selector: {matchLabels: {app: reviews}}}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: root-selected, namespace: istio-system}
spec: {selector: {matchLabels: {app: reviews}}, accessLogging: [{providers: [{name: envoy}]}]}
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: namespace-logs, namespace: default}
spec: {accessLogging: [{providers: [{name: envoy}]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec: {egress: [{hosts: ["./*"]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews-v2, namespace: default}
spec: {workloadSelector: {labels: {app: reviews, version: v2}}, egress: [{hosts: ["./*", "istio-system/*"]}]}
`;

const loaded = loadText(CONFIG, 'mesh.yaml');
const { entries, invalid } = validateDocuments(loaded.documents, REGISTRY, { defaultNamespace: 'default' }, loaded.problems);
const snapshot = snapshotFromConfig(entries);
const reviewsV1 = { namespace: 'default', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } };
const reviewsV2 = { namespace: 'default', name: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } };
const gateway = { namespace: 'istio-system', name: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } };
const REVIEWS = 'reviews.default.svc.cluster.local';

const rows = (list: ReturnType<typeof appliedConfig>): string[] => list.map((c) => `${c.kind} ${c.namespace}/${c.name}: ${c.why}`);

describe('appliedConfig', () => {
  it('reads the fixture without issues', () => {
    assert.deepEqual(invalid.map((i) => i.issues.map((x) => x.message)), []);
  });

  it("lists a service's definition, traffic rules and its workloads' policies, each with why", () => {
    assert.deepEqual(rows(appliedConfig(entries, snapshot, { hosts: [REVIEWS], workloads: [reviewsV1, reviewsV2] })), [
      `Service default/reviews: defines ${REVIEWS}`,
      `ServiceEntry default/reviews-alias: hosts: ${REVIEWS}`,
      'VirtualService default/reviews: hosts: reviews',
      'DestinationRule default/reviews: host: reviews',
      `DestinationRule other/reviews-fqdn: host: ${REVIEWS}`,
      'Sidecar default/default: in effect for reviews-v1',
      'Sidecar default/reviews-v2: in effect for reviews-v2',
      'PeerAuthentication istio-system/default: mesh-wide (root namespace istio-system)',
      'AuthorizationPolicy default/reviews-viewer: selects app=reviews: reviews-v1, reviews-v2',
      'AuthorizationPolicy default/v2-only: selects version=v2: reviews-v2',
      'AuthorizationPolicy istio-system/mesh-ratings: selects app=reviews: reviews-v1, reviews-v2',
      'Telemetry default/namespace-logs: namespace-wide (default)',
    ]);
  });

  it('leaves out a short host that resolves in another namespace, targetRef policies, and a root Telemetry selecting elsewhere', () => {
    const names = appliedConfig(entries, snapshot, { hosts: [REVIEWS], workloads: [reviewsV1] }).map((c) => c.name);
    for (const n of ['reviews-short-elsewhere', 'on-the-gateway-class', 'root-selected', 'jwt', 'v2-only', 'bookinfo']) assert.ok(!names.includes(n), n);
  });

  it('lists a gateway VirtualService for the services it routes to, and the Gateway for the workload it runs on', () => {
    const pp = rows(appliedConfig(entries, snapshot, { hosts: ['productpage.default.svc.cluster.local'], workloads: [] }));
    assert.ok(pp.includes('VirtualService default/bookinfo: routes to productpage through default/bookinfo-gateway'), pp.join('\n'));
    const gw = rows(appliedConfig(entries, snapshot, { hosts: [], workloads: [gateway] }));
    assert.deepEqual(gw, ['Gateway default/bookinfo-gateway: runs on istio=ingressgateway', 'PeerAuthentication istio-system/default: mesh-wide (root namespace istio-system)']);
  });

  it("gives each entry its config page's id", () => {
    const ids = appliedConfig(entries, snapshot, { hosts: [REVIEWS], workloads: [] }).map((c) => c.id);
    assert.ok(ids.includes('core/Service/default/reviews'));
    assert.ok(ids.includes('networking.istio.io/VirtualService/default/reviews'));
  });
});

// Tests for the VirtualService analyzers (IST0101, IST0109, IST0112, IST0132, IST0140), each
// through load + validate + analyze with the exact line istioctl would print.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { SERVICE } from '../../api/core/service.js';
import { DESTINATION_RULE } from '../../api/networking/destination-rule.js';
import { ISTIO_GATEWAY } from '../../api/networking/gateway.js';
import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import { VIRTUAL_SERVICE } from '../../api/networking/virtual-service.js';
import type { AnyKind } from '../../api/kind.js';
import {
  conflictingMeshGatewayHostsAnalyzer,
  destinationHostAnalyzer,
  destinationRuleAnalyzer,
  gatewayAnalyzer,
} from './virtual-service.js';

const KINDS: readonly AnyKind[] = [SERVICE, SERVICE_ENTRY, VIRTUAL_SERVICE, DESTINATION_RULE, ISTIO_GATEWAY];

const SERVICES = `apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: default
spec:
  selector: {app: reviews}
  ports:
  - name: http
    port: 9080
---
apiVersion: v1
kind: Service
metadata:
  name: ratings
  namespace: default
spec:
  ports:
  - name: http
    port: 9080
  - name: http-admin
    port: 9090
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external
  namespace: default
spec:
  hosts: ["*.example.com"]
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: NONE
`;

describe('virtualservice.DestinationHostAnalyzer', () => {
  it('reports an unknown destination host on its line', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews-bogus
---
${SERVICES}`;
    assert.deepEqual(analyzeLines(yaml, KINDS, [destinationHostAnalyzer]), [
      'Error [IST0101] (VirtualService default/reviews test.yaml:11) Referenced host not found: "reviews-bogus"',
    ]);
  });

  const cases: { name: string; dest: string; want: string[] }[] = [
    { name: 'short name in the same namespace', dest: 'host: reviews', want: [] },
    { name: 'FQDN', dest: 'host: reviews.default.svc.cluster.local', want: [] },
    { name: 'wildcard ServiceEntry host', dest: 'host: api.example.com', want: [] },
    {
      name: 'short name resolved in another namespace',
      dest: 'host: reviews.other.svc.cluster.local',
      want: ['Error [IST0101] (VirtualService default/vs test.yaml:11) Referenced host not found: "reviews.other.svc.cluster.local"'],
    },
    {
      name: 'port not exposed',
      dest: 'host: reviews\n        port: {number: 8080}',
      want: ['Error [IST0101] (VirtualService default/vs test.yaml:11) Referenced host:port not found: "reviews:8080"'],
    },
    {
      name: 'multi-port service without a port',
      dest: 'host: ratings',
      want: [
        'Error [IST0112] (VirtualService default/vs test.yaml:11) This VirtualService routes to a service "ratings" that exposes multiple ports [9080 9090]. Specifying a port in the destination is required to disambiguate.',
      ],
    },
    { name: 'multi-port service with a port', dest: 'host: ratings\n        port: {number: 9090}', want: [] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
  namespace: default
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        ${c.dest}
---
${SERVICES}`;
      assert.deepEqual(analyzeLines(yaml, KINDS, [destinationHostAnalyzer]), c.want);
    });

  it('reports unknown mirror hosts', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
    mirror:
      host: shadow
---
${SERVICES}`;
    assert.deepEqual(analyzeLines(yaml, KINDS, [destinationHostAnalyzer]), [
      'Error [IST0101] (VirtualService default/vs test.yaml:11) Referenced mirror host not found: "shadow"',
    ]);
  });

  it('honours the Service exportTo annotation', () => {
    const yaml = `apiVersion: v1
kind: Service
metadata:
  name: private
  namespace: team-a
  annotations:
    networking.istio.io/exportTo: "."
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
  namespace: team-b
spec:
  hosts: [x]
  http:
  - route:
    - destination: {host: private.team-a.svc.cluster.local}
`;
    assert.deepEqual(analyzeLines(yaml, KINDS, [destinationHostAnalyzer]), [
      'Error [IST0101] (VirtualService team-b/vs test.yaml:20) Referenced host not found: "private.team-a.svc.cluster.local"',
    ]);
  });
});

describe('virtualservice.DestinationRuleAnalyzer', () => {
  const yaml = (subset: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews.default.svc.cluster.local
  subsets:
  - name: v1
    labels: {version: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews
        subset: ${subset}
`;
  it('accepts a subset the DestinationRule defines (short host vs FQDN)', () => {
    assert.deepEqual(analyzeLines(yaml('v1'), KINDS, [destinationRuleAnalyzer]), []);
  });
  it('reports a missing subset', () => {
    assert.deepEqual(analyzeLines(yaml('v2'), KINDS, [destinationRuleAnalyzer]), [
      'Error [IST0101] (VirtualService default/reviews test.yaml:22) Referenced host+subset in destinationrule not found: "reviews+v2"',
    ]);
  });
});

describe('virtualservice.GatewayAnalyzer', () => {
  const gw = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
  namespace: default
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.bookinfo.com"]
---
`;
  const vs = (gateway: string, host: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
  namespace: default
spec:
  hosts: ["${host}"]
  gateways: [${gateway}]
  http:
  - route:
    - destination: {host: productpage}
`;
  it('accepts a gateway whose hosts cover the VirtualService', () => {
    assert.deepEqual(analyzeLines(gw + vs('bookinfo-gateway', 'www.bookinfo.com'), KINDS, [gatewayAnalyzer]), []);
    assert.deepEqual(analyzeLines(gw + vs('default/bookinfo-gateway', 'www.bookinfo.com'), KINDS, [gatewayAnalyzer]), []);
    assert.deepEqual(analyzeLines(gw + vs('mesh', 'www.bookinfo.com'), KINDS, [gatewayAnalyzer]), []);
  });
  it('reports a missing gateway (and that its hosts are not found)', () => {
    assert.deepEqual(analyzeLines(vs('bogus-gateway', 'www.bookinfo.com'), KINDS, [gatewayAnalyzer]), [
      'Error [IST0101] (VirtualService default/bookinfo test.yaml:8) Referenced gateway not found: "bogus-gateway"',
      'Warning [IST0132] (VirtualService default/bookinfo test.yaml:8) one or more host [www.bookinfo.com] defined in VirtualService default/bookinfo not found in Gateway default/bogus-gateway.',
    ]);
  });
  it('reports a host the gateway does not serve', () => {
    assert.deepEqual(analyzeLines(gw + vs('bookinfo-gateway', 'www.example.com'), KINDS, [gatewayAnalyzer]), [
      'Warning [IST0132] (VirtualService default/bookinfo test.yaml:19) one or more host [www.example.com] defined in VirtualService default/bookinfo not found in Gateway default/bookinfo-gateway.',
    ]);
  });
});

describe('virtualservice.ConflictingMeshGatewayHostsAnalyzer', () => {
  const vs = (name: string, ns: string, host: string, extra = ''): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  hosts: [${host}]${extra}
  http:
  - route:
    - destination: {host: ${host}}
---
`;
  it('reports every VirtualService claiming the same mesh host', () => {
    const yaml = vs('ratings', 'foo', 'ratings.bar.svc.cluster.local') + vs('ratings', 'bar', 'ratings');
    assert.deepEqual(analyzeLines(yaml, KINDS, [conflictingMeshGatewayHostsAnalyzer]), [
      'Error [IST0109] (VirtualService bar/ratings test.yaml:15) The VirtualServices bar/ratings,foo/ratings associated with mesh gateway define the same host */ratings.bar.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
      'Error [IST0109] (VirtualService foo/ratings test.yaml:4) The VirtualServices bar/ratings,foo/ratings associated with mesh gateway define the same host */ratings.bar.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.',
    ]);
  });
  it('ignores gateway-bound VirtualServices and disjoint exportTo', () => {
    const yaml =
      vs('a', 'foo', 'ratings.bar.svc.cluster.local', '\n  gateways: [gw]') +
      vs('b', 'bar', 'ratings') +
      vs('c', 'x', 'shared.com', '\n  exportTo: ["."]') +
      vs('d', 'y', 'shared.com', '\n  exportTo: ["."]');
    assert.deepEqual(analyzeLines(yaml, KINDS, [conflictingMeshGatewayHostsAnalyzer]), []);
  });
});

describe('virtualservice.DestinationHostAnalyzer subsets at ingress', () => {
  it('reports a gateway route without a subset to a host another VirtualService splits by subset', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ingress
  namespace: default
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - route:
    - destination: {host: reviews}
---
${SERVICES}`;
    assert.deepEqual(analyzeLines(yaml, KINDS, [destinationHostAnalyzer]), [
      'Warning [IST0140] (VirtualService default/ingress test.yaml:22) Subset in virtual service default/reviews has no effect on ingress gateway default/ingress requests',
    ]);
  });
});

// Tests for analyzers that look at one resource at a time: schema validation (IST0106/0133/0130/0131),
// annotations (IST0107/0108/0125/0135), Service port names (IST0118/0150), DestinationRule CA certificates
// (IST0128/0129), ServiceEntry addresses (IST0134) and Telemetry providers (IST0157).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeLines } from '../../../test/support/analyze.js';
import { DEPLOYMENT } from '../../api/core/deployment.js';
import { NAMESPACE } from '../../api/core/namespace.js';
import { POD } from '../../api/core/pod.js';
import { SERVICE } from '../../api/core/service.js';
import type { AnyKind } from '../../api/kind.js';
import { DESTINATION_RULE } from '../../api/networking/destination-rule.js';
import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import { VIRTUAL_SERVICE } from '../../api/networking/virtual-service.js';
import { TELEMETRY } from '../../api/telemetry/telemetry.js';
import { annotationsAnalyzer, annotationValueError } from './annotations.js';
import { caCertificateAnalyzer } from './destination-rule.js';
import { schemaValidationAnalyzer } from './schema.js';
import { convertProtocol, portNameAnalyzer } from './service.js';
import { serviceEntryAddressesAnalyzer } from './service-entry.js';
import { telemetryProviderAnalyzer } from './telemetry.js';

const KINDS: readonly AnyKind[] = [POD, DEPLOYMENT, NAMESPACE, SERVICE, SERVICE_ENTRY, VIRTUAL_SERVICE, DESTINATION_RULE, TELEMETRY];

describe('schema.ValidationAnalyzer', () => {
  it('reports each validation error of an invalid document as IST0106 on its line', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
    timeoutt: 1s
    retries: {attempts: -1}
`;
    const lines = analyzeLines(yaml, KINDS, [schemaValidationAnalyzer]);
    assert.deepEqual(lines, [
      'Error [IST0106] (VirtualService default/reviews test.yaml:10) Schema validation error: spec.http[0].timeoutt: unknown field "timeoutt"',
      'Error [IST0106] (VirtualService default/reviews test.yaml:11) Schema validation error: spec.http[0].retries.attempts: attempts cannot be negative',
    ]);
  });

  it('reports an unknown kind without a resource name when the header is unreadable', () => {
    const lines = analyzeLines('kind: VirtualService\nmetadata: {name: x}\n', KINDS, [schemaValidationAnalyzer]);
    assert.deepEqual(lines, ['Error [IST0106] (test.yaml:1) Schema validation error: apiVersion: required field is missing']);
  });

  it('reports unreachable and ineffective VirtualService rules as IST0130 / IST0131', () => {
    const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs
  namespace: default
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: {prefix: /a}
    route:
    - destination: {host: reviews}
  - route:
    - destination: {host: reviews}
  - match:
    - uri: {prefix: /b}
    route:
    - destination: {host: reviews}
  - match:
    - uri: {exact: /c}
    - uri: {exact: /c}
    route:
    - destination: {host: reviews}
`;
    assert.deepEqual(analyzeLines(yaml, KINDS, [schemaValidationAnalyzer]), [
      'Warning [IST0130] (VirtualService default/vs test.yaml:15) VirtualService rule #2 not used (route without matches defined before).',
      'Warning [IST0130] (VirtualService default/vs test.yaml:19) VirtualService rule #3 not used (route without matches defined before).',
    ]);
    const noCatchAll = yaml.replace('  - route:\n    - destination: {host: reviews}\n  - match:\n    - uri: {prefix: /b}', '  - match:\n    - uri: {prefix: /a/b}');
    assert.deepEqual(analyzeLines(noCatchAll, KINDS, [schemaValidationAnalyzer]), [
      'Info [IST0131] (VirtualService default/vs test.yaml:14) VirtualService rule #1 match #0 of prefix /a/b is not used (duplicate/overlapping match in rule #0 of prefix /a on #0).',
      'Info [IST0131] (VirtualService default/vs test.yaml:19) VirtualService rule #2 match #1 is not used (duplicate/overlapping match in rule #2).',
    ]);
  });
});

describe('annotations.K8sAnalyzer', () => {
  const pod = (annotations: string, labels = '{app: a}'): string => `apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: default
  labels: ${labels}
  annotations:
${annotations}
spec:
  containers:
  - name: app
    image: app:1
`;
  const cases: { name: string; yaml: string; want: string[] }[] = [
    { name: 'known pod annotations', yaml: pod('    sidecar.istio.io/proxyCPU: 100m\n    proxy.istio.io/config: "{}"\n    example.com/other: x'), want: [] },
    { name: 'unknown istio annotation', yaml: pod('    sidecar.istio.io/bogus: "1"'), want: ['Warning [IST0108] (Pod default/p test.yaml:8) Unknown annotation: sidecar.istio.io/bogus'] },
    {
      name: 'misplaced annotation',
      yaml: pod('    networking.istio.io/exportTo: "."'),
      want: ['Warning [IST0107] (Pod default/p test.yaml:8) Misplaced annotation: networking.istio.io/exportTo can only be applied to Service'],
    },
    {
      name: 'deprecated inject annotation',
      yaml: pod('    sidecar.istio.io/inject: "true"'),
      want: ['Info [IST0135] (Pod default/p test.yaml:8) Annotation "sidecar.istio.io/inject" has been deprecated in favor of the "sidecar.istio.io/inject" label and may not work in future Istio versions.'],
    },
    { name: 'deprecated annotation with the replacement label', yaml: pod('    sidecar.istio.io/inject: "true"', '{sidecar.istio.io/inject: "true"}'), want: [] },
    {
      name: 'invalid interception mode',
      yaml: pod('    sidecar.istio.io/interceptionMode: BOGUS'),
      want: ['Warning [IST0125] (Pod default/p test.yaml:8) Invalid annotation sidecar.istio.io/interceptionMode: interceptionMode invalid, use REDIRECT,TPROXY,NONE: BOGUS'],
    },
    {
      name: 'invalid port list',
      yaml: pod('    traffic.sidecar.istio.io/excludeInboundPorts: "80,abc"'),
      want: [
        `Warning [IST0125] (Pod default/p test.yaml:8) Invalid annotation traffic.sidecar.istio.io/excludeInboundPorts: excludeInboundPorts invalid: failed parsing port 'abc': failed parsing port 'abc': strconv.ParseUint: parsing "abc": invalid syntax`,
      ],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(analyzeLines(c.yaml, KINDS, [annotationsAnalyzer]), c.want));

  it('reports pod annotations on a Deployment object as misplaced', () => {
    const yaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  annotations:
    sidecar.istio.io/proxyCPU: 100m
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers: [{name: app, image: app:1}]
`;
    assert.deepEqual(analyzeLines(yaml, KINDS, [annotationsAnalyzer]), [
      'Warning [IST0107] (Deployment default/d test.yaml:6) Misplaced annotation: sidecar.istio.io/proxyCPU can only be applied to Pod',
    ]);
  });

  it('validates values like Istio', () => {
    assert.equal(annotationValueError('prometheus.istio.io/merge-metrics', 'yes'), 'strconv.ParseBool: parsing "yes": invalid syntax');
    assert.equal(annotationValueError('readiness.status.sidecar.istio.io/periodSeconds', '99999999999'), 'strconv.ParseUint: parsing "99999999999": value out of range');
    assert.equal(annotationValueError('traffic.sidecar.istio.io/includeOutboundIPRanges', '*'), undefined);
    assert.equal(
      annotationValueError('traffic.sidecar.istio.io/excludeOutboundIPRanges', '10.0.0.0'),
      `excludeIPRanges invalid: failed parsing cidr '10.0.0.0': netip.ParsePrefix("10.0.0.0"): no '/'`,
    );
    assert.equal(annotationValueError('traffic.sidecar.istio.io/excludeOutboundIPRanges', '10.0.0.0/8,fd00::/8'), undefined);
  });
});

describe('service.PortNameAnalyzer', () => {
  const svc = (ports: string, type = ''): string => `apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: default
spec:${type}
  ports:
${ports}
`;
  const cases: { name: string; yaml: string; want: string[] }[] = [
    { name: 'protocol-prefixed names', yaml: svc('  - {name: http-web, port: 80}\n  - {name: grpc, port: 9000}\n  - {name: tcp-db, port: 5432}'), want: [] },
    { name: 'appProtocol', yaml: svc('  - {name: web, port: 80, appProtocol: http}'), want: [] },
    { name: 'well-known port', yaml: svc('  - {name: db, port: 3306}'), want: [] },
    { name: 'UDP', yaml: svc('  - {name: dns, port: 5353, protocol: UDP}'), want: [] },
    {
      name: 'unnamed protocol',
      yaml: svc('  - {name: foo, port: 8080, targetPort: 9090}'),
      want: ["Info [IST0118] (Service default/s test.yaml:8) Port name foo (port: 8080, targetPort: 9090) doesn't follow the naming convention of Istio port."],
    },
    {
      name: 'ExternalName with tcp name',
      yaml: svc('  - {name: tcp, port: 5432}', '\n  type: ExternalName\n  externalName: db.example.com'),
      want: ['Warning [IST0150] (Service default/s test.yaml:10) Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly'],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(analyzeLines(c.yaml, KINDS, [portNameAnalyzer]), c.want));

  it('infers protocols like kube.ConvertProtocol', () => {
    assert.equal(convertProtocol(80, 'grpc-web-x', undefined, undefined), 'GRPC-Web');
    assert.equal(convertProtocol(80, 'x', undefined, 'kubernetes.io/h2c'), 'HTTP2');
    assert.equal(convertProtocol(27017, '', undefined, undefined), 'TCP');
    assert.equal(convertProtocol(80, 'HTTP', undefined, undefined), 'HTTP');
  });
});

describe('destinationrule.CaCertificateAnalyzer', () => {
  const dr = (tp: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: db
  namespace: default
spec:
  host: db.example.com
  trafficPolicy:
${tp}
`;
  const cases: { name: string; yaml: string; want: string[] }[] = [
    { name: 'SIMPLE with caCertificates', yaml: dr('    tls: {mode: SIMPLE, caCertificates: /etc/ca.pem}'), want: [] },
    { name: 'ISTIO_MUTUAL', yaml: dr('    tls: {mode: ISTIO_MUTUAL}'), want: [] },
    {
      name: 'SIMPLE without caCertificates',
      yaml: dr('    tls:\n      mode: SIMPLE'),
      want: ['Warning [IST0128] (DestinationRule default/db test.yaml:10) DestinationRule default/db in namespace default has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: db.example.com'],
    },
    {
      name: 'port-level MUTUAL without caCertificates',
      yaml: dr('    portLevelSettings:\n    - port: {number: 443}\n      tls:\n        mode: MUTUAL\n        clientCertificate: /c.pem\n        privateKey: /k.pem'),
      want: ['Warning [IST0129] (DestinationRule default/db test.yaml:12) DestinationRule default/db in namespace default has TLS mode set to MUTUAL but no caCertificates are set to validate server identity for host: db.example.com at port number:443'],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(analyzeLines(c.yaml, KINDS, [caCertificateAnalyzer]), c.want));
});

describe('serviceentry.Analyzer', () => {
  const se = (extra: string, protocol: string): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: db
  namespace: default
spec:
  hosts: [db.example.com]${extra}
  ports:
  - number: 5432
    name: db
${protocol}
  resolution: DNS
`;
  it('reports TCP ports without addresses', () => {
    assert.deepEqual(analyzeLines(se('', '    protocol: TCP'), KINDS, [serviceEntryAddressesAnalyzer]), [
      'Warning [IST0134] (ServiceEntry default/db test.yaml:10) ServiceEntry addresses are required for this protocol.',
    ]);
    assert.deepEqual(analyzeLines(se('', ''), KINDS, [serviceEntryAddressesAnalyzer]).length, 1);
  });
  it('accepts addresses, HTTP ports and mesh-wide auto allocation', () => {
    assert.deepEqual(analyzeLines(se('\n  addresses: [240.0.0.1]', '    protocol: TCP'), KINDS, [serviceEntryAddressesAnalyzer]), []);
    assert.deepEqual(analyzeLines(se('', '    protocol: HTTP'), KINDS, [serviceEntryAddressesAnalyzer]), []);
    const mesh = { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } };
    assert.deepEqual(analyzeLines(se('', '    protocol: TCP'), KINDS, [serviceEntryAddressesAnalyzer], { meshConfig: mesh }), []);
  });
});

describe('telemetry.ProviderAnalyzer', () => {
  const tel = (logging: string): string => `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  accessLogging:
${logging}
`;
  it('reports access logging without providers', () => {
    assert.deepEqual(analyzeLines(tel('  - {}'), KINDS, [telemetryProviderAnalyzer]), [
      'Warning [IST0157] (Telemetry istio-system/mesh-default test.yaml:8) The Telemetry mesh-default in namespace "istio-system" with empty providers will be ignored.',
    ]);
  });
  it('accepts providers, disabled logging and a mesh default provider', () => {
    assert.deepEqual(analyzeLines(tel('  - providers: [{name: envoy}]'), KINDS, [telemetryProviderAnalyzer]), []);
    assert.deepEqual(analyzeLines(tel('  - disabled: true'), KINDS, [telemetryProviderAnalyzer]), []);
    assert.deepEqual(analyzeLines(tel('  - {}'), KINDS, [telemetryProviderAnalyzer], { meshConfig: { defaultProviders: { accessLogging: ['envoy'] } } }), []);
  });
});

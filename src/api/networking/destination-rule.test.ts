import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectInvalid, expectValid } from '../../../test/support/kinds.js';
import { loadText } from '../load.js';
import { createKindRegistry } from '../kind.js';
import { validateObject } from '../validate.js';
import { DESTINATION_RULE, effectiveOutlierDetection, outlierDetectionDefaults, subsetTrafficPolicy, type DestinationRuleSpec } from './destination-rule.js';
import { effectiveHashAlgorithm, effectiveSimpleLb } from './load-balancer.js';

const K = [DESTINATION_RULE];
const head = (spec: string, version = 'v1'): string =>
  `apiVersion: networking.istio.io/${version}\nkind: DestinationRule\nmetadata: {name: dr, namespace: foo}\nspec:\n${spec}`;

const BOOKINFO = fileURLToPath(new URL('../../../../shared/corpus/istio-bookinfo/networking/', import.meta.url));

describe('DestinationRule', () => {
  it('accepts Bookinfo destination rules (and the DestinationRule in egress-rule-google-apis.yaml)', () => {
    const files = readdirSync(BOOKINFO).filter((f) => f.startsWith('destination-rule-') || f === 'egress-rule-google-apis.yaml');
    assert.ok(files.length >= 3, `expected Bookinfo files in ${BOOKINFO}`);
    const registry = createKindRegistry(K);
    let checked = 0;
    for (const f of files) {
      const loaded = loadText(readFileSync(BOOKINFO + f, 'utf8'), f);
      assert.equal(loaded.problems.length, 0);
      for (const d of loaded.documents) {
        const raw = d.raw as { kind?: unknown };
        if (raw.kind !== 'DestinationRule') continue;
        const out = validateObject(d.raw, registry);
        assert.ok(out.ok, `${f}:${d.origin.line}: ${out.ok ? '' : JSON.stringify(out.issues)}`);
        checked++;
      }
    }
    assert.ok(checked >= 5);
  });

  const valid: { name: string; spec: string }[] = [
    {
      name: 'docs: LEAST_REQUEST with a subset overriding ROUND_ROBIN',
      spec: `  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: LEAST_REQUEST
  subsets:
  - name: testversion
    labels:
      version: v3
    trafficPolicy:
      loadBalancer:
        simple: ROUND_ROBIN
`,
    },
    {
      name: 'docs: port-level settings',
      spec: `  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
    portLevelSettings:
    - port:
        number: 80
      loadBalancer:
        simple: LEAST_REQUEST
    - port:
        number: 9080
      loadBalancer:
        simple: ROUND_ROBIN
`,
    },
    {
      name: 'docs: consistent hash on a cookie with ttl',
      spec: `  host: bookinfo-ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie:
          name: user
          ttl: 0s
`,
    },
    {
      name: 'docs: circuit breaker',
      spec: `  host: reviews.prod.svc.cluster.local
  subsets:
  - name: v1
    labels:
      version: v1
    trafficPolicy:
      connectionPool:
        tcp:
          maxConnections: 100
          connectTimeout: 30ms
          tcpKeepalive:
            time: 7200s
            interval: 75s
        http:
          http2MaxRequests: 1000
          maxRequestsPerConnection: 10
      outlierDetection:
        consecutive5xxErrors: 7
        interval: 5m
        baseEjectionTime: 15m
`,
    },
    {
      name: 'docs: locality failover with outlier detection',
      spec: `  host: helloworld.sample.svc.cluster.local
  trafficPolicy:
    connectionPool:
      http:
        maxRequestsPerConnection: 1
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        enabled: true
        failover:
        - from: region1
          to: region2
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 1m
`,
    },
    {
      name: 'docs: weighted distribution',
      spec: `  host: helloworld.sample.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        distribute:
        - from: region1/zone1/*
          to:
            "region1/zone1/*": 70
            "region1/zone2/*": 20
            "region3/zone4/*": 10
    outlierDetection:
      consecutive5xxErrors: 100
      interval: 1s
      baseEjectionTime: 1m
`,
    },
    {
      name: 'docs: TLS origination with mutual certs, SNI and SANs',
      spec: `  host: db-mtls
  trafficPolicy:
    tls:
      mode: MUTUAL
      clientCertificate: /etc/certs/myclientcert.pem
      privateKey: /etc/certs/client_private_key.pem
      caCertificates: /etc/certs/rootcacerts.pem
      sni: my-nginx.mesh-external.svc.cluster.local
      subjectAltNames: [my-nginx.mesh-external.svc.cluster.local]
`,
    },
    {
      name: 'docs: tunnel to an egress proxy',
      spec: `  host: external.app.com
  trafficPolicy:
    tunnel:
      protocol: CONNECT
      targetHost: 10.0.0.1
      targetPort: 3128
`,
    },
    {
      name: 'workload selector limited to the own namespace, maglev, warmup',
      spec: `  host: "*.example.com"
  workloadSelector:
    matchLabels: {app: ratings}
  exportTo: ["."]
  trafficPolicy:
    loadBalancer:
      consistentHash:
        useSourceIp: true
        maglev: {tableSize: 65537}
      warmup: {duration: 30s, minimumPercent: 20, aggression: 1.5}
    proxyProtocol: {version: V2}
    retryBudget: {percent: 25, minRetryConcurrency: 5}
`,
    },
  ];
  for (const c of valid) it(`accepts ${c.name}`, () => void expectValid(head(c.spec), K));

  it('accepts the v1alpha3 and v1beta1 aliases', () => {
    expectValid(head('  host: reviews\n', 'v1alpha3'), K);
    expectValid(head('  host: reviews\n', 'v1beta1'), K);
  });

  it('validates a full-featured resource with every area of the API', () => {
    const w = expectValid(
      head(`  host: reviews.default.svc.cluster.local
  exportTo: ["*"]
  trafficPolicy:
    loadBalancer:
      simple: LEAST_REQUEST
      localityLbSetting:
        enabled: true
        failoverPriority: [topology.istio.io/network, topology.kubernetes.io/region]
      warmupDurationSecs: 10s
    connectionPool:
      tcp: {maxConnections: 10, connectTimeout: 2s, maxConnectionDuration: 1h, idleTimeout: 0s, tcpKeepalive: {probes: 3, time: 10s, interval: 5s}}
      http: {http1MaxPendingRequests: 5, http2MaxRequests: 10, maxRequestsPerConnection: 2, maxRetries: 3, idleTimeout: 30s, h2UpgradePolicy: UPGRADE, useClientProtocol: false, maxConcurrentStreams: 100}
    outlierDetection:
      splitExternalLocalOriginErrors: true
      consecutiveLocalOriginFailures: 3
      consecutiveGatewayErrors: 2
      consecutive5xxErrors: 4
      interval: 30s
      baseEjectionTime: 1m
      maxEjectionPercent: 50
      minHealthPercent: 20
    tls:
      mode: SIMPLE
      credentialName: configmap://foo/ca-bundle
      sni: reviews.example.com
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer:
        consistentHash:
          httpHeaderName: x-user
          ringHash: {minimumRingSize: 2048}
      tls: {mode: ISTIO_MUTUAL}
    - port: {number: 9443}
      loadBalancer:
        consistentHash:
          httpCookie:
            name: session
            path: /
            ttl: 1h
            attributes: [{name: SameSite, value: Strict}, {name: Secure}]
    retryBudget: {percent: 10, minRetryConcurrency: 1}
  subsets:
  - name: v1
    labels: {version: v1, app.kubernetes.io/name: reviews}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpQueryParameterName: user}
      tls:
        mode: SIMPLE
        insecureSkipVerify: true
`),
      K,
    );
    assert.deepEqual(w, []);
  });

  const invalid: { name: string; spec: string; path: string; message: string | RegExp }[] = [
    { name: 'missing host', spec: '  subsets: []\n', path: 'spec.host', message: 'required field is missing' },
    // ValidateWildcardDomain checks the labels after the first one and names only that remainder.
    { name: 'bad host', spec: '  host: "foo..bar"\n', path: 'spec.host', message: 'domain name ".bar" invalid (label "" invalid)' },
    { name: 'empty traffic policy', spec: '  host: r\n  trafficPolicy: {}\n', path: 'spec.trafficPolicy', message: 'traffic policy must have at least one field' },
    {
      name: 'tunnel with proxyProtocol',
      spec: '  host: r\n  trafficPolicy:\n    tunnel: {targetHost: a.com, targetPort: 80}\n    proxyProtocol: {version: V1}\n',
      path: 'spec.trafficPolicy',
      message: 'tunnel and proxyProtocol must not be set together',
    },
    {
      name: 'duplicate subset',
      spec: '  host: r\n  subsets:\n  - name: v1\n  - name: v1\n',
      path: 'spec.subsets[1].name',
      message: 'duplicate subset names: v1',
    },
    { name: 'subset name with dots', spec: '  host: r\n  subsets:\n  - name: v1.0\n', path: 'spec.subsets[0].name', message: 'subset name is invalid: v1.0' },
    { name: 'empty subset name', spec: '  host: r\n  subsets:\n  - name: ""\n', path: 'spec.subsets[0].name', message: 'subset name cannot be empty' },
    {
      name: 'bad subset label value',
      spec: '  host: r\n  subsets:\n  - name: v1\n    labels: {version: "v 1"}\n',
      path: 'spec.subsets[0].labels.version',
      message: 'invalid tag value: "v 1"',
    },
    {
      name: 'simple and consistentHash together',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      simple: RANDOM\n      consistentHash: {useSourceIp: true}\n',
      path: 'spec.trafficPolicy.loadBalancer',
      message: 'only one of simple, consistentHash may be set',
    },
    {
      name: 'two hash keys',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, httpHeaderName: x-user}\n',
      path: 'spec.trafficPolicy.loadBalancer.consistentHash',
      message: 'only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName may be set',
    },
    {
      name: 'deprecated minimumRingSize with maglev',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, minimumRingSize: 1024, maglev: {tableSize: 65537}}\n',
      path: 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize',
      message: 'only one of MinimumRingSize or Maglev/Ringhash can be specified',
    },
    {
      name: 'maglev table size not prime',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, maglev: {tableSize: 1000}}\n',
      path: 'spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize',
      message: 'tableSize must be a prime number for maglev',
    },
    {
      name: 'empty cookie name',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpCookie: {name: ""}}\n',
      path: 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name',
      message: 'name required for HttpCookie',
    },
    {
      name: 'duplicate cookie attribute',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpCookie: {name: c, attributes: [{name: a}, {name: a}]}}\n',
      path: 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name',
      message: 'duplicate cookie attribute name: a',
    },
    {
      name: 'distribute and failover together',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: a, to: {b: 100}}]\n        failover: [{from: a, to: b}]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting',
      message: "can not simultaneously specify 'distribute' and 'failover'",
    },
    {
      name: 'locality weights not summing to 100',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: "us-east/*", to: {"us-east/*": 60, "us-west/*": 30}}]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to',
      message: 'total locality weight 90 != 100',
    },
    {
      name: 'locality weight out of range',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: a, to: {b: 0, c: 100}}]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to.b',
      message: 'locality weight must be in range [1, 100]',
    },
    {
      name: 'locality wildcard in the middle',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: "a/*/c", to: {b: 100}}]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute',
      message: "locality a/*/c wildcard '*' number can not exceed 1 and must be in the end",
    },
    {
      name: 'overlapping distribute sources',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: "a", to: {b: 100}}, {from: "a/z", to: {b: 100}}]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute',
      message: 'locality a/z overlap with previous specified ones',
    },
    {
      name: 'failover to the same region',
      spec: '  host: r\n  trafficPolicy:\n    outlierDetection: {}\n    loadBalancer:\n      localityLbSetting:\n        failover: [{from: us-east, to: us-east}]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]',
      message: 'locality lb failover settings must specify different regions',
    },
    {
      name: 'failover with zones',
      spec: '  host: r\n  trafficPolicy:\n    outlierDetection: {}\n    loadBalancer:\n      localityLbSetting:\n        failover: [{from: us-east/a, to: us-west}]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]',
      message: 'locality lb failover only specify region',
    },
    {
      name: 'failover with a topology label priority',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover: [{from: a, to: b}]\n        failoverPriority: [topology.kubernetes.io/zone]\n',
      path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority[0]',
      message: "can not simultaneously set 'failover' and topology label 'topology.kubernetes.io/zone' in 'failover_priority'",
    },
    {
      name: 'empty connection pool',
      spec: '  host: r\n  trafficPolicy:\n    connectionPool: {}\n',
      path: 'spec.trafficPolicy.connectionPool',
      message: 'connection pool must have at least one field',
    },
    {
      name: 'negative max connections',
      spec: '  host: r\n  trafficPolicy:\n    connectionPool: {tcp: {maxConnections: -1}}\n',
      path: 'spec.trafficPolicy.connectionPool.tcp.maxConnections',
      message: 'max connections must be non-negative',
    },
    {
      name: 'sub-millisecond connect timeout',
      spec: '  host: r\n  trafficPolicy:\n    connectionPool: {tcp: {connectTimeout: 500us}}\n',
      path: 'spec.trafficPolicy.connectionPool.tcp.connectTimeout',
      message: 'duration must be greater than 1ms',
    },
    {
      name: 'unparsable idle timeout',
      spec: '  host: r\n  trafficPolicy:\n    connectionPool: {http: {idleTimeout: 5 minutes}}\n',
      path: 'spec.trafficPolicy.connectionPool.http.idleTimeout',
      message: /^bad Duration: time: /,
    },
    {
      name: 'client protocol with UPGRADE',
      spec: '  host: r\n  trafficPolicy:\n    connectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}\n',
      path: 'spec.trafficPolicy.connectionPool.http.useClientProtocol',
      message: 'use client protocol must not be true when H2UpgradePolicy is UPGRADE',
    },
    {
      name: 'ejection percent out of range',
      spec: '  host: r\n  trafficPolicy:\n    outlierDetection: {maxEjectionPercent: 150}\n',
      path: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent',
      message: 'percentage 150 is not in range 0..100',
    },
    {
      name: 'local origin failures without split',
      spec: '  host: r\n  trafficPolicy:\n    outlierDetection: {consecutiveLocalOriginFailures: 3}\n',
      path: 'spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures',
      message: 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false',
    },
    {
      name: 'mutual TLS without certificates',
      spec: '  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL}\n',
      path: 'spec.trafficPolicy.tls.clientCertificate',
      message: 'client certificate required for mutual tls',
    },
    {
      name: 'credentialName with file certificates',
      spec: '  host: r\n  trafficPolicy:\n    tls: {mode: SIMPLE, credentialName: my-secret, caCertificates: /etc/ca.pem}\n',
      path: 'spec.trafficPolicy.tls',
      message: 'cannot specify client certificates or CA certificate or CA CRL If credentialName is set',
    },
    {
      name: 'insecureSkipVerify with SANs',
      spec: '  host: r\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: true, subjectAltNames: [a.com]}\n',
      path: 'spec.trafficPolicy.tls',
      message: 'cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true',
    },
    {
      name: 'configmap credential in another namespace',
      spec: '  host: r\n  trafficPolicy:\n    tls: {mode: SIMPLE, credentialName: "configmap://bar/ca"}\n',
      path: 'spec.trafficPolicy.tls.credentialName',
      message: 'invalid configmap:// credentialName: namespace must match the configuration namespace "foo"',
    },
    {
      name: 'port-level setting without port',
      spec: '  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - tls: {mode: SIMPLE}\n',
      path: 'spec.trafficPolicy.portLevelSettings[0]',
      message: 'portTrafficPolicy must have valid port',
    },
    {
      name: 'empty port-level setting',
      spec: '  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n',
      path: 'spec.trafficPolicy.portLevelSettings[0]',
      message: 'port traffic policy must have at least one field',
    },
    {
      name: 'tunnel with a bad protocol and port',
      spec: '  host: r\n  trafficPolicy:\n    tunnel: {protocol: GET, targetHost: proxy.example.com, targetPort: 0}\n',
      path: 'spec.trafficPolicy.tunnel.protocol',
      message: 'tunnel protocol must be "CONNECT" or "POST"',
    },
    {
      name: 'tunnel target port',
      spec: '  host: r\n  trafficPolicy:\n    tunnel: {targetHost: proxy.example.com, targetPort: 70000}\n',
      path: 'spec.trafficPolicy.tunnel.targetPort',
      message: 'tunnel target port is invalid: port number 70000 must be in the range 1..65535',
    },
    {
      name: 'warmup percent above 100',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer: {warmup: {duration: 10s, minimumPercent: 120}}\n',
      path: 'spec.trafficPolicy.loadBalancer.warmup.minimumPercent',
      message: 'minimumPercent value should be less than or equal to 100',
    },
    {
      name: 'warmup and warmupDurationSecs together',
      spec: '  host: r\n  trafficPolicy:\n    loadBalancer: {warmup: {duration: 10s}, warmupDurationSecs: 10s}\n',
      path: 'spec.trafficPolicy.loadBalancer',
      message: 'only one of warmupDurationSecs or warmup can be set',
    },
    {
      name: 'workload selector with exportTo beyond the namespace',
      spec: '  host: r\n  workloadSelector: {matchLabels: {app: a}}\n  exportTo: ["*"]\n',
      path: 'spec.exportTo',
      message: 'destination rule with workload selector cannot have exportTo beyond current namespace',
    },
    {
      name: 'workload selector with several exportTo entries',
      spec: '  host: r\n  workloadSelector: {matchLabels: {app: a}}\n  exportTo: [".", "bar"]\n',
      path: 'spec.exportTo',
      message: 'destination rule with workload selector cannot have multiple entries in exportTo',
    },
    { name: 'exportTo none', spec: '  host: r\n  exportTo: ["~"]\n', path: 'spec.exportTo', message: 'exportTo ~ (none) is not allowed for Istio configuration objects' },
    {
      name: 'wildcard selector',
      spec: '  host: r\n  workloadSelector: {matchLabels: {app: "*"}}\n',
      path: 'spec.workloadSelector.matchLabels.app',
      message: 'wildcard is not supported in selector: "app=*"',
    },
    { name: 'unknown lb algorithm', spec: '  host: r\n  trafficPolicy:\n    loadBalancer: {simple: WEIGHTED}\n', path: 'spec.trafficPolicy.loadBalancer.simple', message: 'must be one of' },
    { name: 'unknown field', spec: '  host: r\n  trafficPolicies: {}\n', path: 'spec.trafficPolicies', message: 'unknown field "trafficPolicies"' },
  ];
  for (const c of invalid)
    it(`rejects ${c.name}`, () => {
      expectInvalid(head(c.spec), K, [{ path: c.path, message: c.message }]);
    });

  it('warns as Istio does: deprecated fields, failover without outlier detection, duplicated port-level settings', () => {
    const w = expectValid(
      head(`  host: r
  trafficPolicy:
    outlierDetection: {consecutiveErrors: 5}
    loadBalancer:
      consistentHash: {useSourceIp: true, minimumRingSize: 1024}
  subsets:
  - name: v1
    trafficPolicy:
      loadBalancer:
        localityLbSetting:
          failover: [{from: a, to: b}]
      portLevelSettings:
      - port: {number: 80}
        tls: {mode: ISTIO_MUTUAL}
      - port: {number: 80}
        tls: {mode: DISABLE}
`),
      K,
    );
    assert.deepEqual(
      w.map((i) => `${i.path}: ${i.message}`),
      [
        'spec.trafficPolicy.outlierDetection.consecutiveErrors: outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead',
        "spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize: consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
        'spec.subsets[0].trafficPolicy.loadBalancer.localityLbSetting: outlier detection policy must be provided for failover',
        'spec.subsets[0].trafficPolicy.portLevelSettings[1].port.number: port-level settings for port 80 are duplicated; only the first applies',
      ],
    );
  });

  it('reports structural and semantic problems together', () => {
    const issues = expectInvalid(head('  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL, extra: 1}\n    outlierDetection: {maxEjectionPercent: 101}\n'), K, [
      { path: 'spec.trafficPolicy.tls.extra', message: 'unknown field "extra"' },
      { path: 'spec.trafficPolicy.tls.clientCertificate', message: 'client certificate required for mutual tls' },
      { path: 'spec.trafficPolicy.tls.privateKey', message: 'private key required for mutual tls' },
      { path: 'spec.trafficPolicy.outlierDetection.maxEjectionPercent', message: 'percentage 101 is not in range 0..100' },
    ]);
    assert.equal(issues.length, 4);
  });
});

describe('DestinationRule defaults', () => {
  it('fills outlier detection with Envoy defaults as Istio programs them', () => {
    assert.equal(effectiveOutlierDetection(undefined), undefined);
    assert.deepEqual(effectiveOutlierDetection({}), { ...outlierDetectionDefaults });
    assert.deepEqual(effectiveOutlierDetection({ consecutive5xxErrors: 0, maxEjectionPercent: 0, interval: '1s' }), {
      ...outlierDetectionDefaults,
      consecutive5xxErrors: 0,
      interval: '1s',
    });
    assert.equal(outlierDetectionDefaults.consecutive5xxErrors, 5);
    assert.equal(outlierDetectionDefaults.interval, '10s');
    assert.equal(outlierDetectionDefaults.baseEjectionTime, '30s');
    assert.equal(outlierDetectionDefaults.maxEjectionPercent, 10);
  });

  it('resolves the load balancing algorithm', () => {
    assert.equal(effectiveSimpleLb(undefined), 'LEAST_REQUEST');
    assert.equal(effectiveSimpleLb({ simple: 'LEAST_CONN' }), 'LEAST_REQUEST');
    assert.equal(effectiveSimpleLb({ simple: 'ROUND_ROBIN' }), 'ROUND_ROBIN');
    assert.deepEqual(effectiveHashAlgorithm({ useSourceIp: true }), { kind: 'ringHash', minimumRingSize: 1024 });
    assert.deepEqual(effectiveHashAlgorithm({ minimumRingSize: 4096 }), { kind: 'ringHash', minimumRingSize: 4096 });
    assert.deepEqual(effectiveHashAlgorithm({ maglev: {} }), { kind: 'maglev', tableSize: 65537 });
  });

  it('merges subset and port-level policies as Istio does', () => {
    const spec: DestinationRuleSpec = {
      host: 'r',
      trafficPolicy: {
        tls: { mode: 'ISTIO_MUTUAL' },
        loadBalancer: { simple: 'RANDOM' },
        portLevelSettings: [{ port: { number: 9080 }, connectionPool: { tcp: { maxConnections: 1 } } }],
      },
      subsets: [{ name: 'v1', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }],
    };
    assert.deepEqual(subsetTrafficPolicy(spec, 'v1'), { ...spec.trafficPolicy, loadBalancer: { simple: 'ROUND_ROBIN' } });
    // The port-level setting replaces the destination-level one entirely: tls is not inherited.
    assert.deepEqual(subsetTrafficPolicy(spec, undefined, 9080), { connectionPool: { tcp: { maxConnections: 1 } } });
    assert.deepEqual(subsetTrafficPolicy(spec, 'v1', 9080), { connectionPool: { tcp: { maxConnections: 1 } }, loadBalancer: { simple: 'ROUND_ROBIN' } });
  });
});

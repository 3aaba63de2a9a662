// DestinationRule traffic policies on outbound clusters, one area per suite (load balancer, consistent hash,
// connection pool, outlier detection), each with a golden of the clusters it shapes and the behaviour a
// user configures it for. Auto mTLS is off so the goldens show only what the rule sets.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { Cluster_DiscoveryType, Cluster_LbPolicy } from '../../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HealthStatus } from '../../../src/xds/gen/envoy/config/core/v3/health_check_pb.js';
import { clusterJson, clusterNamed, httpOptions, loadAssignmentFor, NO_AUTO_MTLS, podYaml, serviceYaml, threshold, translateYaml } from './support.js';

const HOST = 'reviews.default.svc.cluster.local';
const HTTP = (subset = '') => `outbound|9080|${subset}|${HOST}`;
const GRPC = (subset = '') => `outbound|7070|${subset}|${HOST}`;

const BASE = [
  serviceYaml('reviews', [
    { name: 'http', port: 9080 },
    { name: 'grpc-api', port: 7070 },
  ]),
  podYaml({ name: 'reviews-v1', ip: '10.0.0.1', labels: { app: 'reviews', version: 'v1' } }),
  podYaml({ name: 'reviews-v2', ip: '10.0.0.2', labels: { app: 'reviews', version: 'v2' }, ready: false }),
].join('\n---\n');

function withRule(spec: string) {
  const dr = ['apiVersion: networking.istio.io/v1', 'kind: DestinationRule', 'metadata: {name: reviews, namespace: default}', 'spec:', '  host: reviews', spec].join('\n');
  return translateYaml(`${BASE}\n---\n${dr}`, { ip: '10.9.9.9', name: 'client' }, NO_AUTO_MTLS);
}

describe('loadBalancer.simple', () => {
  const res = withRule(`  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
  subsets:
  - name: random
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {simple: RANDOM}}
  - name: passthrough
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}
  - name: warm
    labels: {version: v2}
    trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST, warmup: {duration: 60s, minimumPercent: 20, aggression: 2}}}`);

  it('matches the golden', () => {
    assertGolden('cluster/lb-simple', [HTTP(), HTTP('random'), HTTP('passthrough'), HTTP('warm')].map((n) => clusterJson(res, n)));
  });

  it('maps each simple policy to its Envoy lb_policy', () => {
    assert.equal(clusterNamed(res, HTTP()).lbPolicy, Cluster_LbPolicy.ROUND_ROBIN);
    assert.equal(clusterNamed(res, HTTP('random')).lbPolicy, Cluster_LbPolicy.RANDOM);
    assert.equal(clusterNamed(res, HTTP('warm')).lbPolicy, Cluster_LbPolicy.LEAST_REQUEST);
  });

  it('turns a PASSTHROUGH subset into an ORIGINAL_DST cluster without EDS', () => {
    const c = clusterNamed(res, HTTP('passthrough'));
    assert.equal(c.clusterDiscoveryType.value, Cluster_DiscoveryType.ORIGINAL_DST);
    assert.equal(c.lbPolicy, Cluster_LbPolicy.CLUSTER_PROVIDED);
    assert.equal(c.edsClusterConfig, undefined);
    assert.ok(!res.endpoints.some((e) => e.clusterName === c.name));
  });

  it('ramps new endpoints up slowly with warmup', () => {
    const lb = clusterNamed(res, HTTP('warm')).lbConfig;
    assert.equal(lb.case, 'leastRequestLbConfig');
    const s = lb.case === 'leastRequestLbConfig' ? lb.value.slowStartConfig : undefined;
    assert.equal(s?.slowStartWindow?.seconds, 60n);
    assert.equal(s?.aggression?.defaultValue, 2);
    assert.equal(s?.minWeightPercent?.value, 20);
  });

  it('defaults to LEAST_REQUEST without a rule', () => {
    const res2 = translateYaml(BASE, { ip: '10.9.9.9' }, NO_AUTO_MTLS);
    assert.equal(clusterNamed(res2, HTTP()).lbPolicy, Cluster_LbPolicy.LEAST_REQUEST);
  });
});

describe('loadBalancer.consistentHash', () => {
  const res = withRule(`  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
  subsets:
  - name: ring
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: session, ttl: 0s}, ringHash: {minimumRingSize: 2048}}}}
  - name: maglev
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}}}`);

  it('matches the golden', () => {
    assertGolden('cluster/consistent-hash', [HTTP(), HTTP('ring'), HTTP('maglev')].map((n) => clusterJson(res, n)));
  });

  it('uses a ring hash of at least 1024 entries unless a size is given', () => {
    const dflt = clusterNamed(res, HTTP());
    assert.equal(dflt.lbPolicy, Cluster_LbPolicy.RING_HASH);
    assert.equal(dflt.lbConfig.case === 'ringHashLbConfig' ? dflt.lbConfig.value.minimumRingSize : undefined, 1024n);
    const ring = clusterNamed(res, HTTP('ring'));
    assert.equal(ring.lbConfig.case === 'ringHashLbConfig' ? ring.lbConfig.value.minimumRingSize : undefined, 2048n);
  });

  it('uses MAGLEV with the given table size', () => {
    const c = clusterNamed(res, HTTP('maglev'));
    assert.equal(c.lbPolicy, Cluster_LbPolicy.MAGLEV);
    assert.equal(c.lbConfig.case === 'maglevLbConfig' ? c.lbConfig.value.tableSize : undefined, 65537n);
  });
});

describe('connectionPool', () => {
  const res = withRule(`  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 50, connectTimeout: 250ms, maxConnectionDuration: 1h, tcpKeepalive: {time: 7200s, interval: 75s, probes: 9}}
      http: {http1MaxPendingRequests: 5, http2MaxRequests: 20, maxRetries: 2, maxRequestsPerConnection: 1, idleTimeout: 30s, maxConcurrentStreams: 64}
  subsets:
  - name: upgrade
    labels: {version: v1}
    trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}
  - name: client-protocol
    labels: {version: v1}
    trafficPolicy: {connectionPool: {http: {useClientProtocol: true}}}`);

  it('matches the golden', () => {
    assertGolden('cluster/connection-pool', [HTTP(), GRPC(), HTTP('upgrade'), HTTP('client-protocol')].map((n) => clusterJson(res, n)));
  });

  it('lowers exactly the circuit breaker thresholds the rule sets; the rest stay unlimited', () => {
    const t = threshold(clusterNamed(res, HTTP()));
    assert.equal(t.maxConnections, 50);
    assert.equal(t.maxPendingRequests, 5);
    assert.equal(t.maxRequests, 20);
    assert.equal(t.maxRetries, 2);
    const none = threshold(clusterNamed(translateYaml(BASE, { ip: '10.9.9.9' }, NO_AUTO_MTLS), HTTP()));
    assert.deepEqual([none.maxConnections, none.maxPendingRequests, none.maxRequests, none.maxRetries], [4294967295, 4294967295, 4294967295, 4294967295]);
  });

  it('sets the connect timeout, keepalive and connection lifetimes', () => {
    const c = clusterNamed(res, HTTP());
    assert.equal(c.connectTimeout?.nanos, 250_000_000);
    assert.equal(c.connectTimeout?.seconds, 0n);
    assert.deepEqual(
      [c.upstreamConnectionOptions?.tcpKeepalive?.keepaliveTime, c.upstreamConnectionOptions?.tcpKeepalive?.keepaliveInterval, c.upstreamConnectionOptions?.tcpKeepalive?.keepaliveProbes],
      [7200, 75, 9],
    );
    const common = httpOptions(c)?.commonHttpProtocolOptions;
    assert.equal(common?.idleTimeout?.seconds, 30n);
    assert.equal(common?.maxRequestsPerConnection, 1);
    assert.equal(common?.maxConnectionDuration?.seconds, 3600n);
  });

  it('limits concurrent streams only on HTTP/2 (gRPC) ports', () => {
    const grpc = httpOptions(clusterNamed(res, GRPC()))?.upstreamProtocolOptions;
    assert.equal(grpc?.case, 'explicitHttpConfig');
    const h2 = grpc?.case === 'explicitHttpConfig' && grpc.value.protocolConfig.case === 'http2ProtocolOptions' ? grpc.value.protocolConfig.value : undefined;
    assert.equal(h2?.maxConcurrentStreams, 64);
    const http = httpOptions(clusterNamed(res, HTTP()))?.upstreamProtocolOptions;
    assert.equal(http?.case === 'explicitHttpConfig' ? http.value.protocolConfig.case : undefined, 'httpProtocolOptions');
  });

  it('upgrades to HTTP/2 with h2UpgradePolicy UPGRADE and follows the client with useClientProtocol', () => {
    const up = httpOptions(clusterNamed(res, HTTP('upgrade')))?.upstreamProtocolOptions;
    assert.equal(up?.case === 'explicitHttpConfig' ? up.value.protocolConfig.case : undefined, 'http2ProtocolOptions');
    assert.equal(httpOptions(clusterNamed(res, HTTP('client-protocol')))?.upstreamProtocolOptions.case, 'useDownstreamProtocolConfig');
  });
});

describe('outlierDetection', () => {
  const res = withRule(`  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 0, interval: 5s, baseEjectionTime: 1m, maxEjectionPercent: 50}
  subsets:
  - name: guarded
    labels: {app: reviews}
    trafficPolicy: {outlierDetection: {consecutive5xxErrors: 7, minHealthPercent: 40}}`);

  it('matches the golden', () => {
    assertGolden('cluster/outlier-detection', [HTTP(), HTTP('guarded')].map((n) => clusterJson(res, n)));
  });

  it('enforces the 5xx detector fully, disables an explicit zero detector and success-rate ejection', () => {
    const od = clusterNamed(res, HTTP()).outlierDetection;
    assert.equal(od?.consecutive5xx, 3);
    assert.equal(od?.enforcingConsecutive5xx, 100);
    assert.equal(od?.consecutiveGatewayFailure, 0);
    assert.equal(od?.enforcingConsecutiveGatewayFailure, 0);
    assert.equal(od?.enforcingSuccessRate, 0);
    assert.equal(od?.interval?.seconds, 5n);
    assert.equal(od?.baseEjectionTime?.seconds, 60n);
    assert.equal(od?.maxEjectionPercent, 50);
  });

  it('sets the panic threshold to minHealthPercent (0 when unset)', () => {
    assert.equal(clusterNamed(res, HTTP()).commonLbConfig?.healthyPanicThreshold?.value, 0);
    assert.equal(clusterNamed(res, HTTP('guarded')).commonLbConfig?.healthyPanicThreshold?.value, 40);
  });

  it('sends unhealthy endpoints marked UNHEALTHY, except where minHealthPercent would route to them in panic', () => {
    const health = (name: string) => loadAssignmentFor(res, name).endpoints.flatMap((l) => l.lbEndpoints.map((e) => e.healthStatus));
    assert.deepEqual(health(HTTP()), [HealthStatus.HEALTHY, HealthStatus.UNHEALTHY]);
    assert.deepEqual(health(HTTP('guarded')), [HealthStatus.HEALTHY]);
  });
});

// Sidecar inbound (Istio listener_inbound.go): the virtualInbound listener's chains per workload target port,
// its passthrough and blackhole chains, and where inbound connections land.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertGolden } from '../../support/golden.js';
import { expectRoute } from '../../support/simulate.js';
import { buildFor, k8sService, listener } from './harness.js';

const NO_CLUSTERS = { requireClusters: false } as const;

describe('sidecar inbound', () => {
  const yaml = [
    k8sService('reviews', [{ port: 9080, name: 'http' }]),
    k8sService('reviews-grpc', [{ port: 7070, name: 'grpc', targetPort: 17070 }], { selector: { app: 'reviews' } }),
    k8sService('reviews-db', [{ port: 5432, name: 'tcp' }], { selector: { app: 'reviews' } }),
    k8sService('reviews-metrics', [{ port: 9100, name: 'metrics' }], { selector: { app: 'reviews' } }),
  ].join('\n');
  const b = buildFor(yaml, { name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, ip: '10.1.0.5' });

  it('golden: virtualInbound with HTTP, gRPC, TCP and sniffed target ports', () => {
    assertGolden('listener/sidecar-inbound', b.dump.listeners.filter((l) => (l as { name?: string }).name === 'virtualInbound'));
  });

  it('an inbound GET to 9080 is routed by the inline route config inbound|9080|| to the inbound cluster', () => {
    expectRoute(b.resources, { port: 9080, address: '10.1.0.5', protocol: 'http', callMode: 'inbound', host: 'reviews:9080', path: '/reviews/1' }, {
      listener: 'virtualInbound',
      filterChain: '0.0.0.0_9080',
      routeConfig: 'inbound|9080||',
      virtualHost: 'inbound|http|9080',
      route: 'default',
      cluster: 'inbound|9080||',
    }, NO_CLUSTERS);
  });

  it('gRPC is matched on the target port, not the service port', () => {
    expectRoute(b.resources, { port: 17070, address: '10.1.0.5', protocol: 'grpc', callMode: 'inbound' }, { filterChain: '0.0.0.0_17070', cluster: 'inbound|17070||' }, NO_CLUSTERS);
    const hcm = expectRoute(b.resources, { port: 17070, address: '10.1.0.5', protocol: 'grpc', callMode: 'inbound' }, {}, NO_CLUSTERS).raw.hcm;
    assert.ok(hcm?.http2ProtocolOptions !== undefined, 'HTTP/2 ports get http2_protocol_options');
  });

  it('TCP ports are proxied to the inbound cluster', () => {
    expectRoute(b.resources, { port: 5432, address: '10.1.0.5', protocol: 'tcp', callMode: 'inbound' }, { filterChain: '0.0.0.0_5432', tcpCluster: 'inbound|5432||' }, NO_CLUSTERS);
  });

  it('an undeclared-protocol port sniffs HTTP to the HCM and the rest to tcp_proxy', () => {
    expectRoute(b.resources, { port: 9100, address: '10.1.0.5', protocol: 'http', callMode: 'inbound' }, { filterChain: '0.0.0.0_9100', cluster: 'inbound|9100||' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 9100, address: '10.1.0.5', protocol: 'tcp', callMode: 'inbound' }, { filterChain: '0.0.0.0_9100', tcpCluster: 'inbound|9100||' }, NO_CLUSTERS);
  });

  it('ports no service declares pass through to InboundPassthroughClusterIpv4 (HTTP and TCP)', () => {
    expectRoute(b.resources, { port: 8888, address: '10.1.0.5', protocol: 'tcp', callMode: 'inbound' }, { filterChain: 'virtualInbound', tcpCluster: 'InboundPassthroughClusterIpv4' }, NO_CLUSTERS);
    expectRoute(b.resources, { port: 8888, address: '10.1.0.5', protocol: 'http', callMode: 'inbound' }, { filterChain: 'virtualInbound-catchall-http', routeConfig: 'InboundPassthroughClusterIpv4', cluster: 'InboundPassthroughClusterIpv4' }, NO_CLUSTERS);
  });

  it('connections to 15006 itself are blackholed', () => {
    expectRoute(b.resources, { port: 15006, address: '10.1.0.5', protocol: 'tcp', callMode: 'inbound' }, { filterChain: 'virtualInbound-blackhole', tcpCluster: 'BlackHoleCluster' }, NO_CLUSTERS);
  });

  it('the TLS inspector runs for PERMISSIVE mTLS (the default) and the HTTP inspector only where chains sniff', () => {
    const f = listener(b, 'virtualInbound').listenerFilters.map((x) => x.name);
    assert.deepEqual(f, ['envoy.filters.listener.original_dst', 'envoy.filters.listener.tls_inspector', 'envoy.filters.listener.http_inspector']);
  });

  it('two services claiming one target port with different protocols: the first wins, the clash is reported', () => {
    const b2 = buildFor([k8sService('a', [{ port: 80, name: 'http', targetPort: 8080 }], { selector: { app: 'x' } }), k8sService('b', [{ port: 81, name: 'tcp', targetPort: 8080 }], { selector: { app: 'x' } })].join('\n'), { labels: { app: 'x' } });
    expectRoute(b2.resources, { port: 8080, protocol: 'http', callMode: 'inbound' }, { filterChain: '0.0.0.0_8080', cluster: 'inbound|8080||' }, NO_CLUSTERS);
    assert.equal(b2.issues.length, 1);
    assert.match(b2.issues[0]?.message ?? '', /conflicting inbound listener:8080\. existing: a\.default\.svc\.cluster\.local, incoming: b\.default\.svc\.cluster\.local/);
  });

  it('a workload no service selects has only the passthrough and blackhole chains', () => {
    const b3 = buildFor(yaml, { labels: { app: 'other' } });
    assert.deepEqual(listener(b3, 'virtualInbound').filterChains.map((c) => c.name), [
      'virtualInbound-blackhole',
      ...['virtualInbound-catchall-http', 'virtualInbound-catchall-http'],
      ...['virtualInbound', 'virtualInbound', 'virtualInbound'],
    ]);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../stats/stats-store.js';
import { renderPrometheus } from '../stats/prometheus-format.js';
import { ResponseFlag } from '../http/response-flags.js';
import { decodePeerMetadata, encodePeerMetadata, PeerMetadataCache, workloadFromNode } from './workload-metadata.js';
import { compileStatsConfig } from './stats-config.js';
import { compilePeerMetadataConfig } from './peer-metadata-config.js';
import { IstioMetrics, ownWorkload, type HttpFacts } from './istio-metrics.js';

describe('workload metadata (the x-envoy-peer-metadata exchange)', () => {
  it('derives canonical service and revision as Istio does', () => {
    const cases: [string, Record<string, unknown>, { canonicalName: string; canonicalRevision: string; appName: string; appVersion: string }][] = [
      ['app and version labels', { WORKLOAD_NAME: 'reviews-v2', NAMESPACE: 'default', LABELS: { app: 'reviews', version: 'v2' } }, { canonicalName: 'reviews', canonicalRevision: 'v2', appName: 'reviews', appVersion: 'v2' }],
      ['canonical labels win', { WORKLOAD_NAME: 'w', LABELS: { app: 'a', 'service.istio.io/canonical-name': 'cn', 'service.istio.io/canonical-revision': 'cr' } }, { canonicalName: 'cn', canonicalRevision: 'cr', appName: 'a', appVersion: '' }],
      ['no labels: the workload name and "latest"', { WORKLOAD_NAME: 'ratings-v1' }, { canonicalName: 'ratings-v1', canonicalRevision: 'latest', appName: '', appVersion: '' }],
    ];
    for (const [name, md, want] of cases) {
      const w = workloadFromNode('n', md);
      assert.deepEqual({ canonicalName: w.canonicalName, canonicalRevision: w.canonicalRevision, appName: w.appName, appVersion: w.appVersion }, want, name);
    }
  });

  it('takes pod and namespace from a sidecar node id when metadata lacks them', () => {
    const w = workloadFromNode('sidecar~10.0.0.1~reviews-v1-abc.bookinfo~bookinfo.svc.cluster.local', {});
    assert.equal(w.instanceName, 'reviews-v1-abc');
    assert.equal(w.namespace, 'bookinfo');
    assert.equal(w.clusterId, 'Kubernetes');
  });

  it('round-trips through the header value, and refuses garbage', () => {
    const w = workloadFromNode('x', { NAME: 'pp-1', WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'default', CLUSTER_ID: 'c1', LABELS: { app: 'productpage', version: 'v1' } });
    const back = decodePeerMetadata(encodePeerMetadata(w));
    assert.deepEqual(back, w);
    assert.equal(decodePeerMetadata('not base64 of a struct!!'), undefined);
    assert.equal(decodePeerMetadata(''), undefined);
    const cache = new PeerMetadataCache();
    assert.equal(cache.get(encodePeerMetadata(w))?.workloadName, 'productpage-v1');
    assert.equal(cache.get('%%%'), undefined);
  });
});

describe('istio.stats config', () => {
  it('refuses what it cannot honour, naming the field', () => {
    const problems: string[] = [];
    compileStatsConfig({ metrics: [{ name: 'requests_total', dimensions: { bad: 'request.host +' } }], definitions: [{ name: 'custom' }] }, 'f.typed_config.value', problems);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0] ?? '', /definitions: custom metric definitions are not supported/);
    assert.match(problems[1] ?? '', /^f\.typed_config\.value\.metrics\[0\]\.dimensions\[bad\]: cannot parse CEL expression/);
  });

  it('applies an override without a name to every metric', () => {
    const c = compileStatsConfig({ metrics: [{ tags_to_remove: ['request_protocol'] }] }, 'p', []);
    assert.equal(c.overrides.get('requests_total')?.tagsToRemove.has('request_protocol'), true);
    assert.equal(c.overrides.get('tcp_sent_bytes_total')?.tagsToRemove.has('request_protocol'), true);
  });

  it('reads istiod peer metadata configs and refuses the baggage method', () => {
    const problems: string[] = [];
    const inbound = compilePeerMetadataConfig({ downstream_discovery: [{ istio_headers: {} }, { workload_discovery: {} }], downstream_propagation: [{ istio_headers: {} }] }, 'p', problems);
    assert.deepEqual(problems, []);
    assert.equal(inbound.downstreamDiscovery && inbound.downstreamPropagation && !inbound.upstreamPropagation, true);
    compilePeerMetadataConfig({ upstream_discovery: [{ baggage: {} }] }, 'p', problems);
    assert.match(problems[0] ?? '', /p\.upstream_discovery\[0\]: the baggage method is not supported/);
  });
});

describe('Istio standard metrics', () => {
  const own = ownWorkload('reviews-v1', { WORKLOAD_NAME: 'reviews-v1', NAMESPACE: 'default', LABELS: { app: 'reviews', version: 'v1' } });
  const peer = workloadFromNode('pp', { WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'default', LABELS: { app: 'productpage', version: 'v1' } });
  const facts = (o: Partial<HttpFacts> = {}): HttpFacts => ({
    downstreamPeer: peer,
    upstreamPeer: undefined,
    downstreamPeerPrincipal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
    downstreamLocalPrincipal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
    upstreamPeerPrincipal: '',
    upstreamLocalPrincipal: '',
    service: { host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' },
    authority: 'reviews',
    flags: 0,
    protocol: 'http',
    responseCode: 200,
    grpcStatus: '',
    durationMs: 3,
    requestBytes: 0,
    responseBytes: 120,
    attributes: () => ({ request: { host: 'reviews:9080' } }),
    ...o,
  });

  it('labels a destination-reported request with both workloads, principals and mTLS', () => {
    const stats = new StatsStore();
    const m = new IstioMetrics(stats, own);
    m.recordHttp({ config: compileStatsConfig({ disable_host_header_fallback: true }, 'p', []), reporter: 'destination' }, facts());
    const text = renderPrometheus(stats);
    const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{')) ?? '';
    for (const want of [
      'reporter="destination"', 'source_workload="productpage-v1"', 'source_app="productpage"', 'source_version="v1"',
      'source_principal="spiffe://cluster.local/ns/default/sa/bookinfo-productpage"', 'destination_workload="reviews-v1"',
      'destination_principal="spiffe://cluster.local/ns/default/sa/bookinfo-reviews"', 'destination_service="reviews.default.svc.cluster.local"',
      'destination_service_name="reviews"', 'destination_canonical_revision="v1"', 'request_protocol="http"', 'response_code="200"',
      'response_flags="-"', 'connection_security_policy="mutual_tls"',
    ]) assert.ok(line.includes(want), `${want} in ${line}`);
    assert.match(line, /\} 1$/);
    assert.match(text, /istio_response_bytes_sum\{[^}]*reporter="destination"[^}]*\} 120/);
  });

  it('reports unknown peers, response flags and the host fallback on the source side', () => {
    const stats = new StatsStore();
    const m = new IstioMetrics(stats, ownWorkload('productpage-v1', { WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'default' }));
    m.recordHttp({ config: compileStatsConfig({}, 'p', []), reporter: 'source' }, facts({ downstreamPeer: undefined, service: undefined, responseCode: 503, flags: ResponseFlag.UH }));
    const line = renderPrometheus(stats).split('\n').find((l) => l.startsWith('istio_requests_total{')) ?? '';
    for (const want of ['reporter="source"', 'source_workload="productpage-v1"', 'destination_workload="unknown"', 'destination_service="reviews"', 'response_code="503"', 'response_flags="UH"', 'connection_security_policy="unknown"']) {
      assert.ok(line.includes(want), `${want} in ${line}`);
    }
  });

  it('removes, adds and overrides tags as Telemetry asks, and drops disabled metrics', () => {
    const stats = new StatsStore();
    const m = new IstioMetrics(stats, own);
    const config = compileStatsConfig(
      { metrics: [{ name: 'requests_total', tags_to_remove: ['request_protocol'], dimensions: { request_host: 'request.host', source_app: "'overridden'" } }, { name: 'request_bytes', drop: true }] },
      'p',
      [],
    );
    m.recordHttp({ config, reporter: 'destination' }, facts());
    const text = renderPrometheus(stats);
    const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{')) ?? '';
    assert.ok(!line.includes('request_protocol='), line);
    assert.ok(line.includes('request_host="reviews:9080"'), line);
    assert.ok(line.includes('source_app="overridden"'), line);
    assert.doesNotMatch(text, /istio_request_bytes/);
    assert.match(text, /istio_request_duration_milliseconds_count\{[^}]*request_protocol="http"/);
  });

  it('gives "unknown" when an expression fails on the request', () => {
    const stats = new StatsStore();
    const m = new IstioMetrics(stats, own);
    m.recordHttp({ config: compileStatsConfig({ metrics: [{ name: 'requests_total', dimensions: { x: 'upstream_peer.app' } }] }, 'p', []), reporter: 'destination' }, facts());
    assert.match(renderPrometheus(stats), /istio_requests_total\{[^}]*x="unknown"/);
  });

  it('reports a TCP connection open, its new bytes at each report, and closed once', () => {
    const stats = new StatsStore();
    const m = new IstioMetrics(stats, own);
    const f = { config: compileStatsConfig({}, 'p', []), reporter: 'destination' as const };
    const conn = {};
    const tcp = (sent: number, received: number) => ({ ...facts(), bytesSent: sent, bytesReceived: received });
    const value = (name: string): string => renderPrometheus(stats).split('\n').find((l) => l.startsWith(`${name}{`))?.split(' ').pop() ?? 'none';
    m.recordTcp(f, tcp(0, 0), 'open', conn);
    assert.deepEqual([value('istio_tcp_connections_opened_total'), value('istio_tcp_sent_bytes_total'), value('istio_tcp_connections_closed_total')], ['1', 'none', 'none']);
    m.recordTcp(f, tcp(100, 7), 'progress', conn);
    m.recordTcp(f, tcp(100, 7), 'progress', conn);
    assert.deepEqual([value('istio_tcp_sent_bytes_total'), value('istio_tcp_received_bytes_total')], ['100', '7']);
    m.recordTcp(f, tcp(250, 9), 'close', conn);
    assert.deepEqual([value('istio_tcp_connections_opened_total'), value('istio_tcp_sent_bytes_total'), value('istio_tcp_received_bytes_total'), value('istio_tcp_connections_closed_total')], ['1', '250', '9', '1']);
    // A connection that never reached an upstream is counted opened and closed when it ends.
    m.recordTcp(f, { ...tcp(0, 3), flags: ResponseFlag.UF }, 'close', {});
    assert.match(renderPrometheus(stats), /istio_tcp_connections_opened_total\{[^}]*response_flags="UF"[^}]*\} 1/);
  });
});

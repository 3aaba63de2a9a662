import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { finishStreamSpan, startStreamSpan, type SpanFacts } from './span.js';
import { otlpTraceRequest } from './otlp-json.js';
import { zipkinSpans } from './zipkin-json.js';
import type { CompiledTracing } from './tracing-config.js';
import type { DownstreamRequest } from '../http/http-stream.js';
import type { HeaderMap } from '../http/headers.js';
import { seededRandom } from '../lib/random.js';

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';
const RID = '00000fa0-1111-4222-8333-444444444444';

function config(o: Partial<CompiledTracing> = {}): CompiledTracing {
  return {
    collector: { format: 'otlp', cluster: 'outbound|4318||otel', path: '/v1/traces', authority: 'otel', headers: [], timeoutMs: 1000, serviceName: 'reviews.default', key: 'k' },
    propagation: 'w3c',
    sampling: { client: 10_000, random: 0, overall: 10_000 },
    customTags: [
      { kind: 'literal', tag: 'team', value: 'bookinfo' },
      { kind: 'header', tag: 'user', name: 'x-user', defaultValue: 'anonymous' },
      { kind: 'environment', tag: 'pod', name: 'POD', defaultValue: '' },
      { kind: 'metadata', tag: 'policy', filter: 'envoy.filters.http.rbac', path: ['p'], defaultValue: '' },
    ],
    maxPathTagLength: 8,
    spawnUpstreamSpan: false,
    egress: true,
    traceId128: true,
    ...o,
  };
}

function request(headers: HeaderMap): DownstreamRequest {
  return { method: 'GET', path: '/reviews/1?x=1', authority: 'reviews:9080', scheme: 'http', protocol: 'HTTP/1.1', headers, hasBody: false, body: Readable.from([]), remoteAddress: '10.0.0.1', remotePort: 4000, localAddress: '10.0.0.2', localPort: 9080, serverName: '' };
}

function facts(req: DownstreamRequest, code: number): SpanFacts {
  return {
    request: req, startMs: 1_700_000_000_000, durationNs: 2_500_000n, responseCode: code, responseFlags: '-', upstreamCluster: 'outbound|9080||reviews', upstreamHost: '10.0.0.9:9080',
    bytesReceived: 0, bytesSent: 7, grpcStatus: '', dynamicMetadata: {}, nodeId: 'sidecar~1', zone: '', env: (n) => (n === 'POD' ? 'reviews-1' : undefined),
  };
}

describe('a stream span', () => {
  it('continues a sampled traceparent even at 0 % sampling and passes its own id upstream', () => {
    const req = request({ 'x-request-id': RID, traceparent: `00-${TID}-${SID}-01` });
    const s = startStreamSpan(config(), req, undefined, seededRandom(7));
    assert.equal(s.sampled, true);
    assert.equal(s.traceId, TID);
    assert.equal(s.parentSpanId, SID);
    assert.equal(s.kind, 'client');
    assert.equal(s.name, 'egress reviews:9080');
    assert.equal(req.headers['traceparent'], `00-${TID}-${s.spanId}-01`);
  });

  it('an unsampled new trace still propagates, flagged 00', () => {
    const req = request({ 'x-request-id': RID });
    const s = startStreamSpan(config(), req, undefined, seededRandom(7));
    assert.equal(s.sampled, false);
    assert.equal(s.parentSpanId, '');
    assert.match(String(req.headers['traceparent']), new RegExp(`^00-${s.traceId}-${s.spanId}-00$`));
  });

  it('a malformed traceparent is ignored: a new trace starts', () => {
    const req = request({ 'x-request-id': RID, traceparent: 'garbage' });
    const s = startStreamSpan(config({ sampling: { client: 10_000, random: 10_000, overall: 10_000 } }), req, undefined, seededRandom(7));
    assert.notEqual(s.traceId, TID);
    assert.equal(s.sampled, true);
    assert.equal(s.traceId.length, 32);
  });

  it('inbound spans are SERVER and take the ingress decorator header; gateways spawn a CLIENT child', () => {
    const inbound = startStreamSpan(config({ egress: false }), request({ 'x-request-id': RID, 'x-envoy-decorator-operation': 'reviews:9080/*' }), undefined, seededRandom(1));
    assert.deepEqual([inbound.kind, inbound.name], ['server', 'reviews:9080/*']);
    const req = request({ 'x-request-id': RID, traceparent: `00-${TID}-${SID}-01` });
    const gw = startStreamSpan(config({ spawnUpstreamSpan: true }), req, undefined, seededRandom(1));
    assert.equal(gw.kind, 'server');
    assert.equal(req.headers['traceparent'], `00-${TID}-${gw.upstreamSpanId}-01`);
    const done = finishStreamSpan(gw, facts(req, 200));
    assert.deepEqual(done.map((d) => [d.kind, d.parentSpanId]), [['server', SID], ['client', gw.spanId]]);
  });

  it('B3: honours x-b3-sampled and injects the multi headers', () => {
    const req = request({ 'x-request-id': RID, 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-sampled': '1' });
    const s = startStreamSpan(config({ propagation: 'b3' }), req, undefined, seededRandom(3));
    assert.equal(s.sampled, true);
    assert.deepEqual([req.headers['x-b3-traceid'], req.headers['x-b3-spanid'], req.headers['x-b3-parentspanid'], req.headers['x-b3-sampled']], [TID, s.spanId, SID, '1']);
  });

  it('finishing sets Envoy’s tags, custom tags, error on 5xx and the OTLP status', () => {
    const req = request({ 'x-request-id': RID, traceparent: `00-${TID}-${SID}-01`, 'x-user': 'jason', 'user-agent': 'curl' });
    const s = startStreamSpan(config(), req, undefined, seededRandom(7));
    const [span] = finishStreamSpan(s, { ...facts(req, 503), dynamicMetadata: { 'envoy.filters.http.rbac': { p: 'ns[foo]' } } });
    assert.ok(span !== undefined);
    const tags = Object.fromEntries(span.tags);
    assert.equal(tags['http.url'], 'http://reviews:9080/reviews');
    assert.equal(tags['http.method'], 'GET');
    assert.equal(tags['http.status_code'], '503');
    assert.equal(tags['upstream_cluster'], 'outbound|9080||reviews');
    assert.equal(tags['guid:x-request-id'], RID);
    assert.equal(tags['user_agent'], 'curl');
    assert.deepEqual([tags['team'], tags['user'], tags['pod'], tags['policy']], ['bookinfo', 'jason', 'reviews-1', 'ns[foo]']);
    assert.equal(tags['error'], 'true');
    assert.equal(span.statusError, true);
    assert.equal(span.endUnixNs - span.startUnixNs, 2_500_000n);
  });
});

describe('span encodings', () => {
  const span = { traceId: TID, spanId: SID, parentSpanId: 'aaaaaaaaaaaaaaaa', name: 'op', kind: 'server' as const, startUnixNs: 1_700_000_000_000_000_000n, endUnixNs: 1_700_000_000_002_000_000n, tags: [['a', '1'], ['a', '2'], ['b', 'x']] as const, statusError: true };

  it('OTLP JSON: hex ids, integer kind and status, nanosecond strings, service.name, unique attribute keys', () => {
    const body = JSON.parse(otlpTraceRequest('reviews.default', [span])) as { resourceSpans: { resource: unknown; scopeSpans: { spans: unknown[] }[] }[] };
    const rs = body.resourceSpans[0];
    assert.deepEqual(rs?.resource, { attributes: [{ key: 'service.name', value: { stringValue: 'reviews.default' } }] });
    assert.deepEqual(rs?.scopeSpans[0]?.spans[0], {
      traceId: TID, spanId: SID, parentSpanId: 'aaaaaaaaaaaaaaaa', name: 'op', kind: 2,
      startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000002000000',
      attributes: [{ key: 'a', value: { stringValue: '2' } }, { key: 'b', value: { stringValue: 'x' } }],
      status: { code: 2 },
    });
  });

  it('Zipkin v2 JSON: microseconds and the SERVER kind', () => {
    assert.deepEqual(JSON.parse(zipkinSpans('reviews.default', [span])), [
      { traceId: TID, id: SID, parentId: 'aaaaaaaaaaaaaaaa', name: 'op', kind: 'SERVER', timestamp: 1_700_000_000_000_000, duration: 2000, localEndpoint: { serviceName: 'reviews.default' }, tags: { a: '2', b: 'x' } },
    ]);
  });
});

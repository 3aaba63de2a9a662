// Distributed tracing between two sidecars, end to end through the control plane's xDS: a root-namespace
// Telemetry names an `opentelemetry` provider (OTLP/HTTP) whose collector is a mesh service; the collector
// here is a real OTLP/HTTP receiver (a node:http server decoding the JSON ExportTraceServiceRequests the
// proxies post). productpage's sidecar reports a CLIENT span, reviews' sidecar a SERVER span, in the incoming
// trace, parent and child; the app sees the server span's traceparent. With 0 % sampling an unsampled request
// exports nothing. A zipkin provider honours B3. Istio: https://istio.io/latest/docs/tasks/observability/
// distributed-tracing/telemetry-api/ ; Envoy: https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/
// observability/tracing

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, startMesh, startTestProxy, startUpstream, viaSidecar, type Seen, type TestMesh } from '../support/data-plane.js';
import { waitFor } from '../support/wait.js';
import type { ExtensionProvider, MeshConfig } from '../../src/model/mesh-config.js';

const service = (name: string, ns: string, port: number, targetPort: number, portName = 'http'): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {app: ${name}}
  ports: [{name: ${portName}, port: ${port}, targetPort: ${targetPort}}]
---
`;

const TID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SID = '00f067aa0ba902b7';
const COLLECTOR_IP = '127.0.1.40';

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

/** A collector: records every POST with its JSON body. */
async function startCollector(t: TestContext): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        body = undefined;
      }
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, COLLECTOR_IP, () => r()));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return { port: (server.address() as AddressInfo).port, received };
}

interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: { key: string; value: { stringValue: string } }[];
  readonly status: { code?: number };
  /** The resource's service.name (added here). */
  readonly service: string;
}

type ExportBody = { resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { spans?: Omit<OtlpSpan, 'service'>[] }[] }[] };

function otlpSpans(received: readonly Received[]): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const r of received) {
    for (const rs of (r.body as ExportBody | undefined)?.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) out.push({ ...s, service });
    }
  }
  return out;
}

const attr = (s: OtlpSpan, key: string): string | undefined => s.attributes.find((a) => a.key === key)?.value.stringValue;

interface Mesh {
  readonly mesh: TestMesh;
  readonly seen: Seen[];
  readonly collector: { port: number; received: Received[] };
}

async function tracedPair(t: TestContext, provider: ExtensionProvider, telemetrySpec: string, files: Record<string, string> = {}): Promise<Mesh> {
  const collector = await startCollector(t);
  const target = await freePort();
  const app = await startUpstream(t, 'reviews', '127.0.0.1', target);
  const portName = provider.kind === 'zipkin' ? 'http-zipkin' : 'http-otlp';
  const servicePort = provider.kind === 'zipkin' ? 9411 : 4318;
  const meshConfig: Partial<MeshConfig> = { extensionProviders: [provider] };
  const mesh = await startMesh(
    t,
    {
      'svc.yaml': service('reviews', 'default', 9080, target) + service('productpage', 'default', 9080, 9080) + service('otel-collector', 'observability', servicePort, collector.port, portName),
      'telemetry.yaml': `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
${telemetrySpec}
`,
      ...files,
    },
    meshConfig,
  );
  mesh.cp.workloads.register({ name: 'otel-collector', namespace: 'observability', address: COLLECTOR_IP, labels: { app: 'otel-collector' }, serviceAccount: 'otel', ports: { [portName]: collector.port }, tlsMode: 'disabled' });
  mesh.cp.workloads.register({ name: 'reviews-v2', namespace: 'default', address: '127.0.1.42', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews', ports: { http: target }, tlsMode: 'istio' });
  mesh.cp.workloads.register({ name: 'productpage-v1', namespace: 'default', address: '127.0.1.41', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage', tlsMode: 'istio' });
  const identity = (sa: string) => ({ identity: { token: () => mesh.cp.ca.issueToken({ namespace: 'default', serviceAccount: sa }) } });
  await startTestProxy(t, mesh, { node: 'reviews-v2', ip: '127.0.1.42', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews' }, identity('bookinfo-reviews'));
  await startTestProxy(t, mesh, { node: 'productpage-v1', ip: '127.0.1.41', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' }, identity('bookinfo-productpage'));
  await waitFor(async () => ((await viaSidecar('127.0.1.41', 'http://reviews:9080/ready').catch(() => undefined))?.status === 200 ? true : undefined), 'reviews through the sidecars', 15_000);
  return { mesh, seen: app.seen, collector };
}

const OTEL: ExtensionProvider = {
  name: 'otel',
  kind: 'opentelemetry',
  opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4318, maxTagLength: 0, http: { path: '/v1/traces', headers: [{ name: 'x-tenant', value: 'bookinfo' }] } },
};

describe('tracing over OTLP/HTTP between sidecars', () => {
  it('a sampled traceparent yields a CLIENT and a SERVER span in the same trace; 0 % sampling exports nothing else', async (t) => {
    const m = await tracedPair(t, OTEL, '  tracing:\n  - providers: [{name: otel}]\n    randomSamplingPercentage: 0\n    customTags:\n      team: {literal: {value: bookinfo}}');
    // Unsampled requests first: propagated with flags 00, never exported.
    for (let i = 0; i < 3; i++) assert.equal((await viaSidecar('127.0.1.41', `http://reviews:9080/unsampled/${i}`)).status, 200);
    const unsampled = m.seen.filter((s) => s.url.startsWith('/unsampled/'));
    assert.equal(unsampled.length, 3);
    for (const s of unsampled) assert.match(String(s.headers['traceparent']), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);

    const r = await viaSidecar('127.0.1.41', 'http://reviews:9080/reviews/1', { headers: { traceparent: `00-${TID}-${SID}-01` } });
    assert.equal(r.status, 200);
    const spans = await waitFor(() => {
      const inTrace = otlpSpans(m.collector.received).filter((s) => s.traceId === TID);
      return inTrace.length >= 2 ? inTrace : undefined;
    }, 'the client and server spans at the collector', 15_000);
    const client = spans.find((s) => s.kind === 3);
    const server = spans.find((s) => s.kind === 2);
    assert.ok(client !== undefined && server !== undefined, JSON.stringify(spans));
    assert.equal(client.parentSpanId, SID, 'the client span continues the incoming context');
    assert.equal(server.parentSpanId, client.spanId, 'the server span is the client span’s child');
    assert.equal(client.service, 'productpage.default');
    assert.equal(server.service, 'reviews.default');
    assert.equal(attr(client, 'http.status_code'), '200');
    assert.equal(attr(server, 'http.status_code'), '200');
    assert.equal(attr(client, 'http.method'), 'GET');
    assert.equal(attr(client, 'upstream_cluster'), 'outbound|9080||reviews.default.svc.cluster.local');
    // Istio's tags stay next to the Telemetry's custom tags (enableIstioTags defaults to true).
    assert.equal(attr(server, 'istio.canonical_service'), 'reviews');
    assert.equal(attr(server, 'istio.namespace'), 'default');
    assert.equal(attr(client, 'team'), 'bookinfo');
    assert.equal(client.name, server.name, 'both named by the route decorator');
    assert.ok(BigInt(client.endTimeUnixNano) >= BigInt(client.startTimeUnixNano));
    // The app sees the server span's context.
    const seen = m.seen.find((s) => s.url === '/reviews/1');
    assert.equal(seen?.headers['traceparent'], `00-${TID}-${server.spanId}-01`);
    // Nothing from the unsampled requests reached the collector, and exports are OTLP/HTTP JSON.
    assert.deepEqual([...new Set(otlpSpans(m.collector.received).map((s) => s.traceId))], [TID]);
    for (const rec of m.collector.received) {
      assert.equal(rec.path, '/v1/traces');
      assert.equal(rec.headers['content-type'], 'application/json');
      assert.equal(rec.headers['x-tenant'], 'bookinfo');
    }
  });

  it('B3 headers are honoured with the zipkin provider', async (t) => {
    const zipkin: ExtensionProvider = { name: 'zipkin', kind: 'zipkin', zipkin: { service: 'otel-collector.observability.svc.cluster.local', port: 9411, maxTagLength: 0, path: '', enable64bitTraceId: false } };
    const m = await tracedPair(t, zipkin, '  tracing:\n  - providers: [{name: zipkin}]\n    randomSamplingPercentage: 0');
    const r = await viaSidecar('127.0.1.41', 'http://reviews:9080/b3', { headers: { 'x-b3-traceid': TID, 'x-b3-spanid': SID, 'x-b3-sampled': '1' } });
    assert.equal(r.status, 200);
    type ZSpan = { traceId: string; id: string; parentId?: string; kind: string; tags: Record<string, string>; localEndpoint: { serviceName: string } };
    const spans = await waitFor(() => {
      const all = m.collector.received.flatMap((x) => (Array.isArray(x.body) ? (x.body as ZSpan[]) : []));
      const inTrace = all.filter((s) => s.traceId === TID);
      return inTrace.length >= 2 ? inTrace : undefined;
    }, 'the zipkin spans', 15_000);
    const client = spans.find((s) => s.kind === 'CLIENT');
    const server = spans.find((s) => s.kind === 'SERVER');
    assert.ok(client !== undefined && server !== undefined, JSON.stringify(spans));
    assert.equal(client.parentId, SID);
    assert.equal(server.parentId, client.id);
    assert.equal(server.tags['http.status_code'], '200');
    assert.ok(m.collector.received.every((x) => x.path === '/api/v2/spans'));
    const seen = m.seen.find((s) => s.url === '/b3');
    assert.deepEqual([seen?.headers['x-b3-traceid'], seen?.headers['x-b3-spanid'], seen?.headers['x-b3-parentspanid'], seen?.headers['x-b3-sampled']], [TID, server.id, client.id, '1']);
  });

  it("a mirrored request's shadow is not sampled (Istio's trace_sampled: false), the request itself is", async (t) => {
    // A VirtualService mirror on productpage's outbound route to reviews sends the shadow to reviews too: the app
    // sees both, the request continuing the sampled trace and the shadow with the same trace id, unsampled.
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    mirror: {host: reviews}
    mirrorPercentage: {value: 100}
`;
    const m = await tracedPair(t, OTEL, '  tracing:\n  - providers: [{name: otel}]\n    randomSamplingPercentage: 0', { 'vs.yaml': vs });
    const r = await viaSidecar('127.0.1.41', 'http://reviews:9080/mirrored', { headers: { traceparent: `00-${TID}-${SID}-01` } });
    assert.equal(r.status, 200);
    const both = await waitFor(() => {
      const s = m.seen.filter((x) => x.url === '/mirrored');
      return s.length >= 2 ? s : undefined;
    }, 'the request and its shadow at the app', 15_000);
    const flags = both.map((s) => String(s.headers['traceparent'])).map((tp) => [tp.slice(3, 35), tp.slice(53)]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    assert.deepEqual(flags, [[TID, '00'], [TID, '01']], 'the shadow in the same trace, unsampled; the request sampled');
  });
});

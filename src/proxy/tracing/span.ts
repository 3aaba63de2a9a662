// One request's span on one proxy (Envoy's ActiveStream::traceRequest and HttpTracerUtility::
// finalizeDownstreamSpan). At request start: the sampling decision (sampling.ts), the parent context from the
// request (traceparent for the OpenTelemetry tracer, B3 for Zipkin), whose sampled flag wins over the proxy's
// own decision; a new span id (and trace id for a new trace); the span's name (the route's decorator, else
// `ingress` / `egress <host>`); and the child context injected into the request headers that go upstream.
// Spans are SERVER on inbound listeners and CLIENT on outbound ones; with spawn_upstream_span (gateways) the
// downstream span is SERVER and a child CLIENT span covers the upstream call (Envoy opentelemetry
// getSpanKind). At stream end: Envoy's standard tags, the custom tags, and status (error on 5xx or no
// response; OTel status ERROR on 5xx, and on 4xx for CLIENT spans). Unsampled spans are never finished.

import type { HeaderMap } from '../http/headers.js';
import type { DownstreamRequest } from '../http/http-stream.js';
import type { Random } from '../lib/random.js';
import type { RouteSelection } from '../http/route/types.js';
import type { CompiledTracing } from './tracing-config.js';
import { decideTrace } from './sampling.js';
import { injectB3, injectTraceparent, parseB3, parseTraceparent } from './span-context.js';

export type { ActiveSpan, SpanKind } from './active-span.js';
import type { ActiveSpan, SpanKind } from './active-span.js';

/** A finished span, ready to encode. Times in Unix nanoseconds. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startUnixNs: bigint;
  readonly endUnixNs: bigint;
  /** Tags in Envoy's order, as string values. */
  readonly tags: readonly (readonly [string, string])[];
  /** OpenTelemetry status ERROR (5xx; 4xx on CLIENT spans). */
  readonly statusError: boolean;
}

const HEX = '0123456789abcdef';

/** `chars` random lower-case hex characters, never all zero. */
export function randomHexId(random: Random, chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += HEX[Math.floor(random.next() * 16) & 15];
  return /^0+$/.test(s) ? `${s.slice(0, -1)}1` : s;
}

function first(h: HeaderMap, name: string): string | undefined {
  const v = h[name];
  return v === undefined ? undefined : typeof v === 'string' ? v : v[0];
}

/** The operation name: the route's decorator, else the ingress decorator header, else Envoy's default. */
function spanName(cfg: CompiledTracing, req: DownstreamRequest, decision: RouteSelection | undefined): string {
  const op = decision?.route.decorator?.operation;
  if (op !== undefined && op !== '') {
    // Egress: the operation is propagated for the server's span (Decorator.propagate defaults to true).
    if (cfg.egress && decision?.route.decorator?.propagate !== false) req.headers['x-envoy-decorator-operation'] = op;
    return op;
  }
  if (!cfg.egress) {
    const h = first(req.headers, 'x-envoy-decorator-operation');
    if (h !== undefined && h !== '') return h;
    return 'ingress';
  }
  return `egress ${req.authority}`;
}

/** Decides, starts the span and injects its context upstream. Called once per stream, before the filters. */
export function startStreamSpan(cfg: CompiledTracing, req: DownstreamRequest, decision: RouteSelection | undefined, random: Random): ActiveSpan {
  const h = req.headers;
  const traced = decideTrace(h, cfg.sampling, random) !== 'not_traceable';
  let traceId: string;
  let parentSpanId = '';
  let sampled = traced;
  let tracestate = '';
  const parent = cfg.propagation === 'w3c' ? parseTraceparent(h) : parseB3(h);
  if (parent !== undefined && 'traceId' in parent) {
    traceId = parent.traceId;
    parentSpanId = parent.spanId;
    sampled = parent.sampled ?? traced;
    tracestate = parent.tracestate;
  } else {
    if (parent !== undefined) sampled = parent.decision;
    traceId = randomHexId(random, cfg.propagation === 'b3' && !cfg.traceId128 ? 16 : 32);
  }
  const spanId = randomHexId(random, 16);
  const upstreamSpanId = cfg.spawnUpstreamSpan ? randomHexId(random, 16) : '';
  const span: ActiveSpan = {
    config: cfg,
    traceId,
    spanId,
    parentSpanId,
    sampled,
    tracestate,
    kind: cfg.spawnUpstreamSpan || !cfg.egress ? 'server' : 'client',
    name: spanName(cfg, req, decision),
    upstreamSpanId,
  };
  const childId = upstreamSpanId !== '' ? upstreamSpanId : spanId;
  if (cfg.propagation === 'w3c') injectTraceparent(h, traceId, childId, sampled, tracestate);
  else injectB3(h, traceId, childId, upstreamSpanId !== '' ? spanId : parentSpanId, sampled);
  return span;
}

/** What finishing a span reads about the stream. */
export interface SpanFacts {
  readonly request: DownstreamRequest;
  readonly startMs: number;
  readonly durationNs: bigint;
  readonly responseCode: number;
  readonly responseFlags: string;
  readonly upstreamCluster: string;
  readonly upstreamHost: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly grpcStatus: string;
  readonly dynamicMetadata: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly nodeId: string;
  readonly zone: string;
  /** The proxy's environment, for `environment` custom tags. */
  env(name: string): string | undefined;
}

function metadataValue(root: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): string | undefined {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return undefined;
}

function url(req: DownstreamRequest, max: number): string {
  const h = req.headers;
  const path = first(h, 'x-envoy-original-path') ?? req.path;
  const proto = first(h, 'x-forwarded-proto') ?? req.scheme;
  return `${proto}://${req.authority}${path.length > max ? path.slice(0, max) : path}`;
}

/** The finished span(s) of a stream: the downstream span and, with spawn_upstream_span, its upstream child. */
export function finishStreamSpan(span: ActiveSpan, f: SpanFacts): FinishedSpan[] {
  const cfg = span.config;
  const req = f.request;
  const h = req.headers;
  const tags: [string, string][] = [['node_id', f.nodeId], ['zone', f.zone]];
  const rid = first(h, 'x-request-id');
  if (rid !== undefined) tags.push(['guid:x-request-id', rid]);
  tags.push(['http.url', url(req, cfg.maxPathTagLength)], ['http.method', req.method]);
  tags.push(['downstream_cluster', first(h, 'x-envoy-downstream-service-cluster') ?? '-'], ['user_agent', first(h, 'user-agent') ?? '-']);
  tags.push(['http.protocol', req.protocol], ['peer.address', req.remoteAddress]);
  const client = first(h, 'x-client-trace-id');
  if (client !== undefined) tags.push(['guid:x-client-trace-id', client]);
  for (const t of cfg.customTags) {
    let v: string | undefined;
    switch (t.kind) {
      case 'literal':
        v = t.value;
        break;
      case 'environment':
        v = f.env(t.name) ?? t.defaultValue;
        break;
      case 'header':
        v = first(h, t.name) ?? t.defaultValue;
        break;
      case 'metadata':
        v = metadataValue(f.dynamicMetadata[t.filter], t.path) ?? t.defaultValue;
        break;
    }
    if (v !== '') tags.push([t.tag, v]);
  }
  tags.push(['request_size', String(f.bytesReceived)], ['response_size', String(f.bytesSent)]);
  const common: [string, string][] = [['component', 'proxy']];
  if (f.upstreamCluster !== '') common.push(['upstream_cluster', f.upstreamCluster]);
  common.push(['http.status_code', String(f.responseCode)], ['response_flags', f.responseFlags]);
  if (f.grpcStatus !== '') common.push(['grpc.status_code', f.grpcStatus]);
  const error = f.responseCode === 0 || f.responseCode >= 500 || (f.grpcStatus !== '' && f.grpcStatus !== '0');
  if (error) common.push(['error', 'true']);
  const start = BigInt(f.startMs) * 1_000_000n;
  const end = start + f.durationNs;
  const statusError = (kind: SpanKind): boolean => f.responseCode >= 500 || (kind === 'client' && f.responseCode >= 400);
  const out: FinishedSpan[] = [
    { traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId, name: span.name, kind: span.kind, startUnixNs: start, endUnixNs: end, tags: [...tags, ...common], statusError: statusError(span.kind) },
  ];
  if (span.upstreamSpanId !== '') {
    const up: [string, string][] = [['http.protocol', req.protocol]];
    if (f.upstreamHost !== '') up.push(['upstream_address', f.upstreamHost]);
    out.push({ traceId: span.traceId, spanId: span.upstreamSpanId, parentSpanId: span.spanId, name: `router ${f.upstreamCluster} egress`, kind: 'client', startUnixNs: start, endUnixNs: end, tags: [...up, ...common], statusError: statusError('client') });
  }
  return out;
}

// Compiles an HttpConnectionManager's `tracing` field into the immutable settings the request path reads:
// the provider (envoy.tracers.opentelemetry with an OTLP/HTTP http_service, or envoy.tracers.zipkin with
// HTTP_JSON), the collector (cluster, path, Host and extra headers, timeout), sampling as numerators over
// 10,000, custom tags, max_path_tag_length (Envoy's default 256), spawn_upstream_span, and the operation
// (ingress on inbound listeners, egress otherwise, from the listener's traffic_direction as Envoy does).
// What the proxy cannot honour is a problem naming the field: the OTLP/gRPC exporter (grpc_service), other
// tracers, Zipkin's deprecated HTTP_JSON_V1 or proto encodings, samplers and resource detectors, verbose.

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { HttpConnectionManager_Tracing } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { OpenTelemetryConfigSchema } from '../../xds/gen/envoy/config/trace/v3/opentelemetry_pb.js';
import { ZipkinConfigSchema, ZipkinConfig_CollectorEndpointVersion } from '../../xds/gen/envoy/config/trace/v3/zipkin_pb.js';
import type { CustomTag } from '../../xds/gen/envoy/type/tracing/v3/custom_tag_pb.js';
import { durationMs } from '../runtime/duration.js';
import { percentToTenThousandths, type SamplingConfig } from './sampling.js';

export type CompiledCustomTag =
  | { readonly kind: 'literal'; readonly tag: string; readonly value: string }
  | { readonly kind: 'environment'; readonly tag: string; readonly name: string; readonly defaultValue: string }
  | { readonly kind: 'header'; readonly tag: string; readonly name: string; readonly defaultValue: string }
  /** Request (dynamic) metadata: filter namespace, then a key path into its struct. */
  | { readonly kind: 'metadata'; readonly tag: string; readonly filter: string; readonly path: readonly string[]; readonly defaultValue: string };

/** Where and how spans are exported; `key` identifies one exporter (shared by HCMs that agree on all of it). */
export interface CollectorConfig {
  readonly format: 'otlp' | 'zipkin';
  readonly cluster: string;
  readonly path: string;
  /** The Host (`:authority`) of export requests. */
  readonly authority: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly timeoutMs: number;
  /** OTLP resource service.name / Zipkin localEndpoint.serviceName; '' = the node's cluster. */
  readonly serviceName: string;
  readonly key: string;
}

export interface CompiledTracing {
  readonly collector: CollectorConfig;
  /** W3C traceparent (opentelemetry) or B3 (zipkin). */
  readonly propagation: 'w3c' | 'b3';
  readonly sampling: SamplingConfig;
  readonly customTags: readonly CompiledCustomTag[];
  readonly maxPathTagLength: number;
  readonly spawnUpstreamSpan: boolean;
  /** Envoy's operation: ingress (SERVER spans) or egress (CLIENT spans). */
  readonly egress: boolean;
  /** Zipkin: 128-bit trace ids for new traces. */
  readonly traceId128: boolean;
}

/** Envoy's default HTTP export timeout when http_uri.timeout is unset (Istio documents 3 s). */
const DEFAULT_EXPORT_TIMEOUT_MS = 3_000;
const DEFAULT_ZIPKIN_TIMEOUT_MS = 5_000;

/** `[scheme://]host[:port][/path]` -> authority and path (Envoy's extractHostPathFromUri; no path = `/`). */
function splitUri(uri: string): { authority: string; path: string } {
  const rest = uri.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = rest.indexOf('/');
  return slash < 0 ? { authority: rest, path: '/' } : { authority: rest.slice(0, slash), path: rest.slice(slash) };
}

function compileTag(t: CustomTag, path: string, problems: string[]): CompiledCustomTag | undefined {
  const ty = t.type;
  switch (ty.case) {
    case 'literal':
      return { kind: 'literal', tag: t.tag, value: ty.value.value };
    case 'environment':
      return { kind: 'environment', tag: t.tag, name: ty.value.name, defaultValue: ty.value.defaultValue };
    case 'requestHeader':
      return { kind: 'header', tag: t.tag, name: ty.value.name.toLowerCase(), defaultValue: ty.value.defaultValue };
    case 'metadata': {
      const m = ty.value;
      if (m.kind?.kind.case !== 'request') {
        problems.push(`${path}.metadata.kind: only request (dynamic) metadata is supported`);
        return undefined;
      }
      const keys: string[] = [];
      for (const s of m.metadataKey?.path ?? []) if (s.segment.case === 'key') keys.push(s.segment.value);
      return { kind: 'metadata', tag: t.tag, filter: m.metadataKey?.key ?? '', path: keys, defaultValue: m.defaultValue };
    }
    default:
      problems.push(`${path}: a custom tag needs literal, environment, request_header or metadata`);
      return undefined;
  }
}

/** The HCM's tracing settings, or undefined (with problems pushed) when they cannot be honoured. */
export function compileTracing(t: HttpConnectionManager_Tracing, path: string, direction: 'inbound' | 'outbound' | 'unspecified', problems: string[]): CompiledTracing | undefined {
  const before = problems.length;
  if (t.verbose) problems.push(`${path}.verbose: span logs are not supported`);
  const p = t.provider;
  let collector: CollectorConfig | undefined;
  let propagation: CompiledTracing['propagation'] = 'w3c';
  let traceId128 = true;
  const cfg = p?.configType.case === 'typedConfig' ? p.configType.value : undefined;
  if (p === undefined || cfg === undefined) problems.push(`${path}.provider: a tracer with a typed_config is required`);
  else if (p.name === 'envoy.tracers.opentelemetry' || cfg.typeUrl.endsWith(OpenTelemetryConfigSchema.typeName)) {
    const o = anyUnpack(cfg, OpenTelemetryConfigSchema);
    const pp = `${path}.provider.typed_config`;
    if (o === undefined) problems.push(`${pp}: cannot decode ${OpenTelemetryConfigSchema.typeName}`);
    else if (o.grpcService !== undefined) problems.push(`${pp}.grpc_service: the OTLP/gRPC exporter is not supported; use http_service (OTLP/HTTP)`);
    else if (o.sampler !== undefined) problems.push(`${pp}.sampler: custom samplers are not supported`);
    else if (o.resourceDetectors.length > 0) problems.push(`${pp}.resource_detectors: resource detectors are not supported`);
    else if (o.httpService?.httpUri === undefined) problems.push(`${pp}.http_service: an http_service with http_uri is required`);
    else {
      const u = o.httpService.httpUri;
      if (u.httpUpstreamType.case !== 'cluster' || u.httpUpstreamType.value === '') problems.push(`${pp}.http_service.http_uri.cluster: required`);
      else {
        const { authority, path: uriPath } = splitUri(u.uri);
        const headers = o.httpService.requestHeadersToAdd.filter((h) => h.header !== undefined).map((h) => [(h.header?.key ?? '').toLowerCase(), h.header?.value ?? ''] as const);
        const cluster = u.httpUpstreamType.value;
        const timeoutMs = durationMs(u.timeout, DEFAULT_EXPORT_TIMEOUT_MS);
        collector = { format: 'otlp', cluster, path: uriPath, authority, headers, timeoutMs, serviceName: o.serviceName, key: JSON.stringify(['otlp', cluster, uriPath, authority, headers, timeoutMs, o.serviceName]) };
      }
    }
  } else if (p.name === 'envoy.tracers.zipkin' || cfg.typeUrl.endsWith(ZipkinConfigSchema.typeName)) {
    const z = anyUnpack(cfg, ZipkinConfigSchema);
    const pp = `${path}.provider.typed_config`;
    propagation = 'b3';
    if (z === undefined) problems.push(`${pp}: cannot decode ${ZipkinConfigSchema.typeName}`);
    else if (z.collectorEndpointVersion !== ZipkinConfig_CollectorEndpointVersion.HTTP_JSON) problems.push(`${pp}.collector_endpoint_version: only HTTP_JSON (Zipkin v2 JSON) is supported`);
    else if (z.collectorCluster === '') problems.push(`${pp}.collector_cluster: required`);
    else {
      traceId128 = z.traceId128bit;
      const path = z.collectorEndpoint || '/api/v2/spans';
      const authority = z.collectorHostname || z.collectorCluster;
      collector = { format: 'zipkin', cluster: z.collectorCluster, path, authority, headers: [], timeoutMs: DEFAULT_ZIPKIN_TIMEOUT_MS, serviceName: '', key: JSON.stringify(['zipkin', z.collectorCluster, path, authority]) };
    }
  } else problems.push(`${path}.provider.name: unsupported tracer ${p.name || cfg.typeUrl}; only envoy.tracers.opentelemetry (OTLP/HTTP) and envoy.tracers.zipkin are supported`);
  const customTags: CompiledCustomTag[] = [];
  t.customTags.forEach((c, i) => {
    const ct = compileTag(c, `${path}.custom_tags[${i}]`, problems);
    if (ct !== undefined) customTags.push(ct);
  });
  if (collector === undefined || problems.length > before) return undefined;
  return Object.freeze({
    collector,
    propagation,
    sampling: Object.freeze({ client: percentToTenThousandths(t.clientSampling?.value), random: percentToTenThousandths(t.randomSampling?.value), overall: percentToTenThousandths(t.overallSampling?.value) }),
    customTags: Object.freeze(customTags),
    maxPathTagLength: t.maxPathTagLength ?? 256,
    spawnUpstreamSpan: t.spawnUpstreamSpan ?? false,
    egress: direction === 'outbound',
    traceId128,
  });
}

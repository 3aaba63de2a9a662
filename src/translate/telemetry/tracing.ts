// The HttpConnectionManager `tracing` field as Istio builds it from the Telemetry API (pilot/pkg/networking/
// core/tracing.go configureTracingFromTelemetry, configureFromProviderConfig, otelConfig, zipkinConfig,
// configureSampling, configureCustomTags): the client spec on outbound listeners and gateways, the server
// spec on inbound listeners; none when the spec is disabled or its provider is missing, is not a tracing
// provider, or names a service the registry does not hold (model.LookupCluster; the collector must be a mesh
// service, reached through its `outbound|<port>||<host>` cluster).
//  - opentelemetry: envoy.tracers.opentelemetry with an http_service (uri `<host><path>`, Istio's
//    url.JoinPath, the collector's cluster, timeout, headers) or a grpc_service; service_name is the proxy's
//    service cluster (`<canonical name>.<namespace>`, as Istio's node.cluster);
//  - zipkin: envoy.tracers.zipkin, HTTP_JSON (Zipkin v2) to `/api/v2/spans` by default, 128-bit trace ids
//    unless enable64bitTraceId, shared_span_context false; the legacy collector_cluster/endpoint/hostname
//    fields (this Envoy API snapshot has no collector_service);
//  - sampling: client and overall 100 %, random = randomSamplingPercentage, else Istio's 1 % default;
//  - custom tags sorted by name: Istio's istio.* tags and the dry-run policy tags when enableIstioTags
//    (default true), plus the Telemetry's literal / environment / header tags (formatter tags need a newer
//    Envoy API than the generated one and are left out);
//  - spawn_upstream_span on gateways (router proxies), as Istio sets it.
// Not emitted: disableContextPropagation (no_context_propagation is missing from this Envoy API snapshot),
// the request-id extension, and the legacy meshConfig.enableTracing path (tracing needs a Telemetry or a
// default provider here). Applied as a last pass over the built listeners, like access logs. Pure.

import { clone, create, type MessageInitShape } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { Filter, FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_TracingSchema,
  type HttpConnectionManager_Tracing,
} from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { OpenTelemetryConfigSchema } from '../../xds/gen/envoy/config/trace/v3/opentelemetry_pb.js';
import { ZipkinConfigSchema, ZipkinConfig_CollectorEndpointVersion } from '../../xds/gen/envoy/config/trace/v3/zipkin_pb.js';
import { CustomTagSchema, type CustomTag } from '../../xds/gen/envoy/type/tracing/v3/custom_tag_pb.js';
import { HeaderValueOption_HeaderAppendAction, TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Any } from '@bufbuild/protobuf/wkt';
import { pack } from '../../xds/codec.js';
import type { ProxyContext } from '../context.js';
import type { Proxy } from '../../model/proxy.js';
import type { TracingHttpHeader } from '../../model/mesh-config.js';
import { lookupCluster } from '../httpfilter/authz/ext-authz-provider.js';
import { canonicalService } from '../endpoint/topology-labels.js';
import { SHADOW_ALLOW_STAT_PREFIX } from '../httpfilter/authz/build-rbac.js';
import { durationFromMs } from '../proto-values.js';
import { effectiveTracing, type TracingSpec } from './tracing-spec.js';

export const OPENTELEMETRY_TRACER = 'envoy.tracers.opentelemetry';
export const ZIPKIN_TRACER = 'envoy.tracers.zipkin';
/** features.TraceSampling (PILOT_TRACE_SAMPLING) default. */
const DEFAULT_SAMPLING_PERCENT = 1;
/** The OTLP/HTTP traces path when the provider's http.path is empty (the OTLP exporter default). */
const DEFAULT_OTLP_PATH = '/v1/traces';
/**
 * The OTLP/HTTP export timeout when the provider's http.timeout is unset: the OpenTelemetry exporter
 * specification's default (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s). Istio passes the unset timeout through, and
 * Envoy refuses the listener ("HttpUriValidationError.Timeout: value is required": HttpUri.timeout is
 * `required` in envoy/config/core/v3/http_uri.proto), so every listener with tracing would be NACKed.
 */
const DEFAULT_OTLP_HTTP_TIMEOUT_MS = 10_000;
const DEFAULT_ZIPKIN_PATH = '/api/v2/spans';
const RBAC_FILTER = 'envoy.filters.http.rbac';
const SHADOW_DENY_STAT_PREFIX = 'istio_dry_run_deny_';

/** The proxy's service cluster: Istio's node.cluster, `<canonical name>.<namespace>`. */
export function serviceCluster(proxy: Proxy): string {
  return `${canonicalService(proxy.labels, proxy.workloadName).name}.${proxy.namespace}`;
}

function literal(tag: string, value: string): CustomTag {
  return create(CustomTagSchema, { tag, type: { case: 'literal', value: { value } } });
}

function dryRunTag(tag: string, key: string): CustomTag {
  return create(CustomTagSchema, {
    tag,
    type: { case: 'metadata', value: { kind: { kind: { case: 'request', value: {} } }, metadataKey: { key: RBAC_FILTER, path: [{ segment: { case: 'key', value: key } }] } } },
  });
}

function metaString(proxy: Proxy, key: string): string {
  const v = proxy.metadata[key];
  return typeof v === 'string' ? v : '';
}

/** buildServiceTags + optionalPolicyTags. */
function istioTags(proxy: Proxy): CustomTag[] {
  return [
    literal('istio.canonical_revision', proxy.labels['service.istio.io/canonical-revision'] || 'latest'),
    literal('istio.canonical_service', proxy.labels['service.istio.io/canonical-name'] || canonicalService(proxy.labels, proxy.workloadName).name || 'unknown'),
    literal('istio.mesh_id', metaString(proxy, 'MESH_ID') || 'unknown'),
    literal('istio.namespace', proxy.namespace || 'default'),
    literal('istio.cluster_id', metaString(proxy, 'CLUSTER_ID') || 'unknown'),
    dryRunTag('istio.authorization.dry_run.allow_policy.name', `${SHADOW_ALLOW_STAT_PREFIX}shadow_effective_policy_id`),
    dryRunTag('istio.authorization.dry_run.allow_policy.result', `${SHADOW_ALLOW_STAT_PREFIX}shadow_engine_result`),
    dryRunTag('istio.authorization.dry_run.deny_policy.name', `${SHADOW_DENY_STAT_PREFIX}shadow_effective_policy_id`),
    dryRunTag('istio.authorization.dry_run.deny_policy.result', `${SHADOW_DENY_STAT_PREFIX}shadow_engine_result`),
  ];
}

/** configureCustomTags. */
function customTags(spec: TracingSpec, proxy: Proxy): CustomTag[] {
  const tags = spec.enableIstioTags ? istioTags(proxy) : [];
  for (const [name, t] of Object.entries(spec.customTags ?? {})) {
    if (t.literal !== undefined) tags.push(literal(name, t.literal.value ?? ''));
    else if (t.environment !== undefined) tags.push(create(CustomTagSchema, { tag: name, type: { case: 'environment', value: { name: t.environment.name ?? '', defaultValue: t.environment.defaultValue ?? '' } } }));
    else if (t.header !== undefined) tags.push(create(CustomTagSchema, { tag: name, type: { case: 'requestHeader', value: { name: t.header.name ?? '', defaultValue: t.header.defaultValue ?? '' } } }));
  }
  return tags.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

function headerOptions(headers: readonly TracingHttpHeader[]): { header: { key: string; value: string }; appendAction: HeaderValueOption_HeaderAppendAction }[] {
  return headers.map((h) => ({ header: { key: h.name, value: h.value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD }));
}

/** Go's url.JoinPath(host, path) for a bare host: one slash between them. */
function joinPath(host: string, path: string): string {
  const p = path.replace(/^\/+/, '');
  return p === '' ? host : `${host}/${p}`;
}

/** configureFromProviderConfig: the tracer's name and typed config, or undefined when it cannot be built. */
function providerConfig(ctx: ProxyContext, spec: TracingSpec): { name: string; config: Any; maxTagLength: number } | undefined {
  const p = spec.provider;
  if (p === undefined) return undefined;
  if (p.kind === 'opentelemetry') {
    const o = p.opentelemetry;
    const c = lookupCluster(ctx.snapshot, o.service, o.port);
    if ('error' in c) return undefined;
    const exporter: MessageInitShape<typeof OpenTelemetryConfigSchema> =
      o.http !== undefined
        ? {
            httpService: {
              httpUri: {
                uri: joinPath(c.hostname, o.http.path || DEFAULT_OTLP_PATH),
                httpUpstreamType: { case: 'cluster', value: c.cluster },
                timeout: durationFromMs(o.http.timeoutMs ?? DEFAULT_OTLP_HTTP_TIMEOUT_MS),
              },
              requestHeadersToAdd: headerOptions(o.http.headers),
            },
          }
        : {
            grpcService: {
              targetSpecifier: { case: 'envoyGrpc', value: { clusterName: c.cluster, authority: c.hostname } },
              ...(o.grpc?.timeoutMs !== undefined ? { timeout: durationFromMs(o.grpc.timeoutMs) } : {}),
              initialMetadata: (o.grpc?.initialMetadata ?? []).map((h) => ({ key: h.name, value: h.value })),
            },
          };
    const cfg = create(OpenTelemetryConfigSchema, { serviceName: serviceCluster(ctx.proxy), ...exporter });
    return { name: OPENTELEMETRY_TRACER, config: pack(OpenTelemetryConfigSchema, cfg), maxTagLength: o.maxTagLength };
  }
  if (p.kind === 'zipkin') {
    const z = p.zipkin;
    const c = lookupCluster(ctx.snapshot, z.service, z.port);
    if ('error' in c) return undefined;
    const cfg = create(ZipkinConfigSchema, {
      collectorCluster: c.cluster,
      collectorEndpoint: z.path || DEFAULT_ZIPKIN_PATH,
      collectorHostname: c.hostname,
      collectorEndpointVersion: ZipkinConfig_CollectorEndpointVersion.HTTP_JSON,
      traceId128bit: !z.enable64bitTraceId,
      sharedSpanContext: false,
    });
    return { name: ZIPKIN_TRACER, config: pack(ZipkinConfigSchema, cfg), maxTagLength: z.maxTagLength };
  }
  return undefined; // "provider ... does not support tracing"
}

/** configureTracingFromTelemetry for one spec. */
function buildTracing(ctx: ProxyContext, spec: TracingSpec): HttpConnectionManager_Tracing | undefined {
  if (spec.disabled) return undefined;
  const provider = providerConfig(ctx, spec);
  if (provider === undefined) return undefined;
  const pct = spec.randomSamplingPercentage ?? DEFAULT_SAMPLING_PERCENT;
  return create(HttpConnectionManager_TracingSchema, {
    clientSampling: { value: 100 },
    randomSampling: { value: pct },
    overallSampling: { value: 100 },
    customTags: customTags(spec, ctx.proxy),
    provider: { name: provider.name, configType: { case: 'typedConfig', value: provider.config } },
    ...(provider.maxTagLength !== 0 ? { maxPathTagLength: provider.maxTagLength } : {}),
    ...(ctx.proxy.type === 'router' ? { spawnUpstreamSpan: true } : {}),
  });
}

interface SideTracing {
  readonly client: HttpConnectionManager_Tracing | undefined;
  readonly server: HttpConnectionManager_Tracing | undefined;
}

const memo = new WeakMap<ProxyContext, SideTracing>();

/** The HCM tracing of this proxy's client side (outbound, gateways) and server side (inbound). */
export function proxyTracing(ctx: ProxyContext): SideTracing {
  let t = memo.get(ctx);
  if (t !== undefined) return t;
  const cfg = ctx.proxy.type === 'proxyless' ? undefined : effectiveTracing((ns) => ctx.snapshot.telemetries(ns), ctx.snapshot.mesh, { namespace: ctx.proxy.namespace, labels: ctx.proxy.labels });
  t = cfg === undefined ? { client: undefined, server: undefined } : { client: buildTracing(ctx, cfg.client), server: buildTracing(ctx, cfg.server) };
  memo.set(ctx, t);
  return t;
}

function withTracingFilter(f: Filter, tracing: HttpConnectionManager_Tracing): Filter {
  if (f.configType.case !== 'typedConfig' || !f.configType.value.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) return f;
  const h = anyUnpack(f.configType.value, HttpConnectionManagerSchema);
  if (h === undefined) return f;
  h.tracing = tracing;
  return { ...f, configType: { case: 'typedConfig', value: pack(HttpConnectionManagerSchema, h) } };
}

function chainWithTracing(c: FilterChain, tracing: HttpConnectionManager_Tracing): FilterChain {
  return { ...c, filters: c.filters.map((f) => withTracingFilter(f, tracing)) };
}

/**
 * The listeners with HCM tracing set per listener class: inbound listeners (traffic_direction INBOUND) of a
 * sidecar get the server side, the others (outbound, and every listener of a gateway) the client side.
 * Unchanged when the proxy has no tracing.
 */
export function withTracing(listeners: readonly Listener[], ctx: ProxyContext): Listener[] {
  const t = proxyTracing(ctx);
  if (t.client === undefined && t.server === undefined) return [...listeners];
  return listeners.map((l) => {
    if (l.apiListener !== undefined) return l;
    const tracing = ctx.proxy.type === 'sidecar' && l.trafficDirection === TrafficDirection.INBOUND ? t.server : t.client;
    if (tracing === undefined) return l;
    const c = clone(ListenerSchema, l);
    c.filterChains = c.filterChains.map((fc) => chainWithTracing(fc, tracing));
    if (c.defaultFilterChain !== undefined) c.defaultFilterChain = chainWithTracing(c.defaultFilterChain, tracing);
    return c;
  });
}

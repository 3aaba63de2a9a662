// Compiles an HttpConnectionManager into the connection manager's immutable settings: where routes come
// from (RDS name or an inline table compiled now), the HTTP filters in order (fault, CORS, RBAC, router; an
// unknown filter is a problem unless is_optional), codec limits and timeouts, header handling, upgrades
// and access logs. Envoy's defaults where a field is unset (HCM proto docs).

import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HTTPFaultSchema } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { compileFault, type FaultConfig } from '../filters/fault/config.js';
import { compileStatefulSessionFilter, type StatefulSessionConfig } from '../filters/stateful-session/config.js';
import { StatefulSessionSchema } from '../../xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import type { XfccConfig, XfccMode } from '../http/xfcc.js';
import { RBACSchema } from '../../xds/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { compileRbacFilter, type RbacFilterConfig } from '../filters/rbac/config.js';
import { ExtAuthzSchema } from '../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { compileExtAuthz, type ExtAuthzConfig } from '../filters/ext-authz/config.js';
import { JwtAuthenticationSchema } from '../../xds/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { compileJwtAuthn, type JwtAuthnConfig } from '../filters/jwt-authn/config.js';
import { WasmSchema as HttpWasmSchema } from '../../xds/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { compileWasmPluginConfig, type WasmFilterConfig } from '../filters/wasm/config.js';
import { compileRouteConfig } from '../http/route/compile-route-config.js';
import type { CompiledRouteConfig } from '../http/route/types.js';
import type { Compiled } from './compile-cluster.js';
import { compileAccessLog, type CompiledAccessLog } from './compile-access-log.js';

export type { CompiledAccessLog };
import { durationMs } from './duration.js';
import { compilePeerMetadataConfig, PEER_METADATA_FILTER_TYPE, type PeerMetadataConfig } from '../telemetry/peer-metadata-config.js';
import { compileStatsConfig, STATS_FILTER_TYPE } from '../telemetry/stats-config.js';
import type { IstioStatsFilter, Reporter } from '../telemetry/istio-metrics.js';
import { typedStructOf } from './typed-struct.js';
import { compileTracing, type CompiledTracing } from '../tracing/tracing-config.js';
import type { EscapedSlashesAction, PathNormalization } from '../http/path-normalization.js';
import { ALPN_FILTER_TYPE, compileAlpnFilter, type AlpnFilterConfig } from '../filters/alpn/config.js';
import { compileCidr, type IpPredicate } from '../filters/rbac/cidr.js';
import { compileRouterFilter, DEFAULT_ROUTER_CONFIG, type RouterConfig } from './compile-router.js';
import { compileDownstreamHttp2, type DownstreamHttp2 } from './compile-hcm-http2.js';
import { UuidRequestIdConfigSchema } from '../../xds/gen/envoy/extensions/request_id/uuid/v3/uuid_pb.js';

export type CompiledHttpFilter =
  | { readonly kind: 'fault'; readonly name: string; readonly config: FaultConfig }
  | { readonly kind: 'cors'; readonly name: string }
  | { readonly kind: 'grpc_web'; readonly name: string }
  | { readonly kind: 'rbac'; readonly name: string; readonly config: RbacFilterConfig }
  | { readonly kind: 'ext_authz'; readonly name: string; readonly config: ExtAuthzConfig }
  | { readonly kind: 'jwt_authn'; readonly name: string; readonly config: JwtAuthnConfig }
  | { readonly kind: 'wasm'; readonly name: string; readonly config: WasmFilterConfig }
  | { readonly kind: 'peer_metadata'; readonly name: string; readonly config: PeerMetadataConfig }
  | { readonly kind: 'alpn'; readonly name: string; readonly config: AlpnFilterConfig }
  | { readonly kind: 'stateful_session'; readonly name: string; readonly config: StatefulSessionConfig }
  | { readonly kind: 'router'; readonly name: string; readonly config: RouterConfig };


export interface CompiledHcm {
  readonly statPrefix: string;
  readonly routes: { readonly kind: 'rds'; readonly name: string } | { readonly kind: 'inline'; readonly table: CompiledRouteConfig };
  readonly httpFilters: readonly CompiledHttpFilter[];
  /** The `server` response header, set on every response (OVERWRITE); undefined: see serverNameIfAbsent. */
  readonly serverName: string | undefined;
  /** The `server` header for responses without one (APPEND_IF_ABSENT); '' with OVERWRITE and PASS_THROUGH. */
  readonly serverNameIfAbsent: string;
  /** codec_type: AUTO tells HTTP/2 by its preface (or ALPN); HTTP1 and HTTP2 take every connection as that. */
  readonly codec: 'auto' | 'http1' | 'http2';
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  /**
   * internal_address_config.cidr_ranges: the client addresses whose requests are internal (with
   * use_remote_address); undefined: none are, as in Envoy since 1.36 when the field is unset.
   */
  readonly internalAddresses: IpPredicate | undefined;
  readonly skipXffAppend: boolean;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly maxRequestHeadersKb: number;
  readonly maxHeadersCount: number;
  /** `via`: appended to the request and response `via` headers ('' = none). */
  readonly via: string;
  /** always_set_request_id_in_response: the response carries the request's x-request-id. */
  readonly alwaysSetRequestIdInResponse: boolean;
  /** append_x_forwarded_port: x-forwarded-port set to the port the client connected to, unless already set. */
  readonly appendXForwardedPort: boolean;
  /** normalize_path, merge_slashes and path_with_escaped_slashes_action (http/path-normalization.ts). */
  readonly pathNormalization: PathNormalization;
  /** http_protocol_options.accept_http_10: HTTP/1.0 requests are served (else answered 426, as Envoy by default). */
  readonly acceptHttp10: boolean;
  /** http_protocol_options.default_host_for_http_10: the Host of an accepted HTTP/1.0 request without one ('' = none). */
  readonly defaultHostForHttp10: string;
  /**
   * proxy_100_continue: `Expect: 100-continue` goes upstream and the upstream's `100 Continue` comes back;
   * unset (Envoy's default), the connection manager answers the expectation itself and removes it.
   */
  readonly proxy100Continue: boolean;
  /** 0 = none. */
  readonly requestTimeoutMs: number;
  readonly requestHeadersTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  /** common_http_protocol_options.max_stream_duration (0: none); a route's max_stream_duration replaces it. */
  readonly maxStreamDurationMs: number;
  /** http2_protocol_options for HTTP/2 clients. */
  readonly http2: DownstreamHttp2;
  readonly idleTimeoutMs: number;
  /** common_http_protocol_options.max_connection_duration (0: none): then the connection drains. */
  readonly maxConnectionDurationMs: number;
  /** common_http_protocol_options.max_requests_per_connection (0: none): the last request's response closes or drains the connection. */
  readonly maxRequestsPerConnection: number;
  /** drain_timeout: from an HTTP/2 shutdown notice to the final GOAWAY (Envoy's default 5 s). */
  readonly drainTimeoutMs: number;
  /** delayed_close_timeout: how long a connection this side closes waits for the client's close (default 1 s, 0: none). */
  readonly delayedCloseTimeoutMs: number;
  readonly upgrades: ReadonlySet<string>;
  readonly accessLogs: readonly CompiledAccessLog[];
  /** forward_client_cert_details and set_current_client_cert_details. */
  readonly xfcc: XfccConfig;
  /** Istio's stats filter (istio.stats), recorded when a stream completes; undefined: no Istio metrics. */
  readonly istioStats: IstioStatsFilter | undefined;
  /** HCM tracing (envoy.tracers.opentelemetry / zipkin); undefined: no spans, no per-request cost. */
  readonly tracing: CompiledTracing | undefined;
  /**
   * The listener's per_connection_buffer_limit_bytes (Envoy's default 1 MiB; 0: no limit), each stream's
   * buffer limit: how much request body the router keeps for retries and shadows (with a route's
   * per_request_buffer_limit_bytes below it), and how much body may wait behind a paused filter before the
   * writer is asked to wait.
   */
  readonly bufferLimit: number;
}

/** Envoy's per_connection_buffer_limit_bytes when a listener does not set it (source/common/listener_manager). */
export const DEFAULT_BUFFER_LIMIT = 1024 * 1024;


/** HttpConnectionManager.PathWithEscapedSlashesAction by enum number. */
const ESCAPED_SLASHES: readonly EscapedSlashesAction[] = ['keep', 'keep', 'reject', 'redirect', 'forward'];

/** HttpConnectionManager.ForwardClientCertDetails by enum number. */
const XFCC_MODES: readonly XfccMode[] = ['sanitize', 'forward_only', 'append_forward', 'sanitize_set', 'always_forward_only'];

/** HTTP filters that are no-ops for this proxy's model (Istio emits them; nothing to enforce). */
const PASSIVE_FILTERS = new Set(['envoy.extensions.filters.http.grpc_stats.v3.FilterConfig']);

function typeName(a: Any): string {
  return a.typeUrl.slice(a.typeUrl.lastIndexOf('/') + 1);
}

/** Which side reports on a listener: its traffic_direction, or SERVER_GATEWAY's `waypoint`. */
export function reporterFor(direction: 'inbound' | 'outbound' | 'unspecified', serverGateway: boolean): Reporter {
  return serverGateway ? 'waypoint' : direction === 'inbound' ? 'destination' : 'source';
}

/**
 * Connection manager settings that change what a request gets and that this proxy does not implement: refused
 * (NACKed) when set, never silently ignored. Istio's translation sets none of them.
 */
function unsupportedHcmSettings(h: HttpConnectionManager, path: string): string[] {
  const out: string[] = [];
  const lr = h.localReplyConfig;
  if (lr !== undefined && (lr.mappers.length > 0 || lr.bodyFormat !== undefined)) out.push(`${path}.local_reply_config: custom local replies are not supported`);
  if (h.stripMatchingHostPort) out.push(`${path}.strip_matching_host_port: not supported`);
  if (h.stripPortMode.case === 'stripAnyHostPort' && h.stripPortMode.value) out.push(`${path}.strip_any_host_port: not supported`);
  if (h.stripTrailingHostDot) out.push(`${path}.strip_trailing_host_dot: not supported`);
  if (h.schemeHeaderTransformation !== undefined && h.schemeHeaderTransformation.transformation.case !== undefined) out.push(`${path}.scheme_header_transformation: not supported`);
  if (h.codecType === 3) out.push(`${path}.codec_type: HTTP3 is not supported`);
  if (h.originalIpDetectionExtensions.length > 0) out.push(`${path}.original_ip_detection_extensions: not supported`);
  if (h.earlyHeaderMutationExtensions.length > 0) out.push(`${path}.early_header_mutation_extensions: not supported`);
  if (h.representIpv4RemoteAddressAsIpv4MappedIpv6) out.push(`${path}.represent_ipv4_remote_address_as_ipv4_mapped_ipv6: not supported`);
  if (h.addUserAgent === true) out.push(`${path}.add_user_agent: not supported`);
  if (h.pathNormalizationOptions !== undefined) out.push(`${path}.path_normalization_options: not supported`);
  if (h.proxyStatusConfig !== undefined) out.push(`${path}.proxy_status_config: not supported`);
  if (h.typedHeaderValidationConfig !== undefined) out.push(`${path}.typed_header_validation_config: not supported`);
  if (h.streamErrorOnInvalidHttpMessage === true) out.push(`${path}.stream_error_on_invalid_http_message: not supported (a malformed request closes its connection)`);
  // Access log entries other than one per stream at its end.
  if (h.accessLogFlushInterval !== undefined || h.flushAccessLogOnNewRequest) out.push(`${path}.access_log_flush_interval / flush_access_log_on_new_request: not supported`);
  const alo = h.accessLogOptions;
  if (alo !== undefined && (alo.accessLogFlushInterval !== undefined || alo.flushAccessLogOnNewRequest || alo.flushLogOnTunnelSuccessfullyEstablished)) out.push(`${path}.access_log_options: periodic or early access log entries are not supported`);
  const rid = h.requestIdExtension?.typedConfig;
  if (rid !== undefined) {
    const u = rid.typeUrl.endsWith(`/${UuidRequestIdConfigSchema.typeName}`) ? anyUnpack(rid, UuidRequestIdConfigSchema) : undefined;
    if (u === undefined) out.push(`${path}.request_id_extension: only ${UuidRequestIdConfigSchema.typeName} is supported`);
    // The proxy's request ids are Envoy's default UUIDs: the trace decision packed in and used for sampling.
    else if (u.packTraceReason === false || u.useRequestIdForTraceSampling === false) out.push(`${path}.request_id_extension: pack_trace_reason and use_request_id_for_trace_sampling can only be true`);
  }
  const c = h.commonHttpProtocolOptions;
  if (c !== undefined) {
    const cp = `${path}.common_http_protocol_options`;
    if (c.headersWithUnderscoresAction !== 0) out.push(`${cp}.headers_with_underscores_action: only ALLOW is supported`);
  }
  return out;
}

/**
 * internal_address_config: unix_sockets needs no handling (no listener here takes pipe connections); the
 * CIDR ranges as RBAC reads them (an address matches a range of its own IP version).
 */
function internalAddresses(h: HttpConnectionManager, path: string, problems: string[]): IpPredicate | undefined {
  const ranges = h.internalAddressConfig?.cidrRanges ?? [];
  if (ranges.length === 0) return undefined;
  const tests = ranges.map((r, i) => compileCidr(r, `${path}.internal_address_config.cidr_ranges[${i}]`, problems));
  return (ip) => tests.some((t) => t(ip));
}

export function compileHcm(any: Any, path: string, direction: 'inbound' | 'outbound' | 'unspecified' = 'unspecified', bufferLimit = DEFAULT_BUFFER_LIMIT): Compiled<CompiledHcm> {
  const h = anyUnpack(any, HttpConnectionManagerSchema);
  if (h === undefined) return { ok: false, problems: [`${path}: cannot decode ${HttpConnectionManagerSchema.typeName}`] };
  const problems: string[] = unsupportedHcmSettings(h, path);
  let routes: CompiledHcm['routes'] | undefined;
  const rs = h.routeSpecifier;
  if (rs.case === 'rds') routes = { kind: 'rds', name: rs.value.routeConfigName };
  else if (rs.case === 'routeConfig') {
    const r = compileRouteConfig(rs.value);
    if (r.ok) routes = { kind: 'inline', table: r.value };
    else for (const p of r.problems) problems.push(`${path}.route_config.${p}`);
  } else problems.push(`${path}.route_specifier: scoped routes are not supported`);
  const httpFilters: CompiledHttpFilter[] = [];
  let router = false;
  let istioStats: IstioStatsFilter | undefined;
  h.httpFilters.forEach((f, i) => {
    const fp = `${path}.http_filters[${i}](${f.name})`;
    if (f.disabled) return;
    const a = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    const t = a !== undefined ? typeName(a) : '';
    if (router) return void problems.push(`${fp}: follows the terminal router filter`);
    if (t === HTTPFaultSchema.typeName && a !== undefined) {
      const m = anyUnpack(a, HTTPFaultSchema);
      const r = m !== undefined ? compileFault(m, `${fp}.typed_config`) : { ok: false as const, problems: [`${fp}.typed_config: cannot decode`] };
      if (r.ok) httpFilters.push({ kind: 'fault', name: f.name, config: r.value });
      else problems.push(...r.problems);
    } else if (t === RBACSchema.typeName && a !== undefined) {
      const m = anyUnpack(a, RBACSchema);
      const r = m !== undefined ? compileRbacFilter(m, `${fp}.typed_config`) : { ok: false as const, problems: [`${fp}.typed_config: cannot decode`] };
      if (r.ok) httpFilters.push({ kind: 'rbac', name: f.name, config: r.value });
      else problems.push(...r.problems);
    } else if (t === ExtAuthzSchema.typeName && a !== undefined) {
      const m = anyUnpack(a, ExtAuthzSchema);
      const r = m !== undefined ? compileExtAuthz(m, `${fp}.typed_config`) : { ok: false as const, problems: [`${fp}.typed_config: cannot decode`] };
      if (r.ok) httpFilters.push({ kind: 'ext_authz', name: f.name, config: r.value });
      else problems.push(...r.problems);
    } else if (t === JwtAuthenticationSchema.typeName && a !== undefined) {
      const m = anyUnpack(a, JwtAuthenticationSchema);
      const r = m !== undefined ? compileJwtAuthn(m, `${fp}.typed_config`) : { ok: false as const, problems: [`${fp}.typed_config: cannot decode`] };
      if (r.ok) httpFilters.push({ kind: 'jwt_authn', name: f.name, config: r.value });
      else problems.push(...r.problems);
    } else if (t === HttpWasmSchema.typeName && a !== undefined) {
      const m = anyUnpack(a, HttpWasmSchema);
      const r = m !== undefined ? compileWasmPluginConfig(m.config, `${fp}.typed_config`) : { ok: false as const, problems: [`${fp}.typed_config: cannot decode`] };
      if (r.ok) httpFilters.push({ kind: 'wasm', name: f.name, config: r.value });
      else problems.push(...r.problems);
    } else if (a !== undefined && typedStructOf(a)?.type === PEER_METADATA_FILTER_TYPE) {
      const ts = typedStructOf(a);
      if (ts !== undefined) httpFilters.push({ kind: 'peer_metadata', name: f.name, config: compilePeerMetadataConfig(ts.value, `${fp}.typed_config.value`, problems) });
    } else if (a !== undefined && (t === ALPN_FILTER_TYPE || typedStructOf(a)?.type === ALPN_FILTER_TYPE)) {
      const ts = t === ALPN_FILTER_TYPE ? undefined : typedStructOf(a);
      httpFilters.push({ kind: 'alpn', name: f.name, config: compileAlpnFilter(ts === undefined ? a : undefined, ts?.value, `${fp}.typed_config`, problems) });
    } else if (a !== undefined && (typedStructOf(a)?.type === STATS_FILTER_TYPE || t === STATS_FILTER_TYPE)) {
      const ts = typedStructOf(a);
      if (ts === undefined) problems.push(`${fp}.typed_config: ${STATS_FILTER_TYPE} is read from a TypedStruct (as istiod sends it)`);
      else {
        const config = compileStatsConfig(ts.value, `${fp}.typed_config.value`, problems);
        istioStats = { config, reporter: reporterFor(direction, config.serverGateway) };
      }
    } else if (t === StatefulSessionSchema.typeName && a !== undefined) {
      const r = compileStatefulSessionFilter(a, `${fp}.typed_config`);
      if (r.ok) httpFilters.push({ kind: 'stateful_session', name: f.name, config: r.value });
      else problems.push(...r.problems);
    } else if (t === 'envoy.extensions.filters.http.cors.v3.Cors') httpFilters.push({ kind: 'cors', name: f.name });
    else if (t === 'envoy.extensions.filters.http.grpc_web.v3.GrpcWeb') httpFilters.push({ kind: 'grpc_web', name: f.name });
    else if (t === 'envoy.extensions.filters.http.router.v3.Router') {
      httpFilters.push({ kind: 'router', name: f.name, config: a !== undefined ? compileRouterFilter(a, `${fp}.typed_config`, problems) : DEFAULT_ROUTER_CONFIG });
      router = true;
    } else if (PASSIVE_FILTERS.has(t) || f.isOptional) return;
    else problems.push(`${fp}: unsupported HTTP filter ${t || '(no typed_config)'}; mark it is_optional to skip it`);
  });
  if (!router) problems.push(`${path}.http_filters: the last filter must be the router (envoy.filters.http.router)`);
  const accessLogs: CompiledAccessLog[] = [];
  h.accessLog.forEach((l, i) => {
    const c = compileAccessLog(l, `${path}.access_log[${i}]`, problems);
    if (c !== undefined) accessLogs.push(c);
  });
  const tracing = h.tracing !== undefined ? compileTracing(h.tracing, `${path}.tracing`, direction, problems) : undefined;
  const internal = internalAddresses(h, path, problems);
  const http2 = compileDownstreamHttp2(h.http2ProtocolOptions, `${path}.http2_protocol_options`, problems);
  if (problems.length > 0 || routes === undefined) return { ok: false, problems };
  const common = h.commonHttpProtocolOptions;
  return {
    ok: true,
    value: {
      statPrefix: h.statPrefix,
      routes,
      httpFilters,
      // ServerHeaderTransformation: OVERWRITE (0, default) sets server_name (default "envoy"), APPEND_IF_ABSENT (1)
      // only where the response has none, PASS_THROUGH (2) keeps the upstream's.
      serverName: h.serverHeaderTransformation === 0 ? h.serverName || 'envoy' : undefined,
      serverNameIfAbsent: h.serverHeaderTransformation === 1 ? h.serverName || 'envoy' : '',
      codec: h.codecType === 1 ? 'http1' : h.codecType === 2 ? 'http2' : 'auto',
      useRemoteAddress: h.useRemoteAddress ?? false,
      xffNumTrustedHops: h.xffNumTrustedHops,
      internalAddresses: internal,
      skipXffAppend: h.skipXffAppend,
      generateRequestId: h.generateRequestId ?? true,
      preserveExternalRequestId: h.preserveExternalRequestId,
      maxRequestHeadersKb: h.maxRequestHeadersKb ?? 60,
      maxHeadersCount: common?.maxHeadersCount ?? 100,
      // normalize_path unset is Envoy's runtime default, off; Istio sets it. The escaped-slashes default
      // (IMPLEMENTATION_SPECIFIC_DEFAULT) is KEEP_UNCHANGED.
      pathNormalization: Object.freeze({ normalize: h.normalizePath ?? false, mergeSlashes: h.mergeSlashes, escapedSlashes: ESCAPED_SLASHES[h.pathWithEscapedSlashesAction] ?? 'keep' }),
      acceptHttp10: h.httpProtocolOptions?.acceptHttp10 ?? false,
      via: h.via,
      alwaysSetRequestIdInResponse: h.alwaysSetRequestIdInResponse,
      appendXForwardedPort: h.appendXForwardedPort,
      defaultHostForHttp10: h.httpProtocolOptions?.defaultHostForHttp10 ?? '',
      proxy100Continue: h.proxy100Continue,
      requestTimeoutMs: durationMs(h.requestTimeout, 0),
      // Envoy's request_headers_timeout defaults to none; slow-header clients are still cut at 60 s here
      // (node's headersTimeout), so a slowloris cannot hold a connection forever.
      requestHeadersTimeoutMs: durationMs(h.requestHeadersTimeout, 0) || 60_000,
      streamIdleTimeoutMs: durationMs(h.streamIdleTimeout, 300_000),
      maxStreamDurationMs: durationMs(common?.maxStreamDuration, 0),
      http2,
      idleTimeoutMs: durationMs(common?.idleTimeout, 3_600_000),
      maxConnectionDurationMs: durationMs(common?.maxConnectionDuration, 0),
      maxRequestsPerConnection: common?.maxRequestsPerConnection ?? 0,
      drainTimeoutMs: durationMs(h.drainTimeout, 5_000),
      delayedCloseTimeoutMs: durationMs(h.delayedCloseTimeout, 1_000),
      upgrades: new Set(h.upgradeConfigs.filter((u) => u.enabled !== false).map((u) => u.upgradeType.toLowerCase())),
      xfcc: Object.freeze({
        mode: XFCC_MODES[h.forwardClientCertDetails] ?? 'sanitize',
        cert: h.setCurrentClientCertDetails?.cert ?? false,
        subject: h.setCurrentClientCertDetails?.subject ?? false,
        uri: h.setCurrentClientCertDetails?.uri ?? false,
        dns: h.setCurrentClientCertDetails?.dns ?? false,
      }),
      accessLogs,
      istioStats,
      tracing,
      bufferLimit,
    },
  };
}

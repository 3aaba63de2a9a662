// envoy.filters.http.ext_authz configuration (envoy.extensions.filters.http.ext_authz.v3.ExtAuthz) compiled
// once into an immutable ExtAuthzConfig: which authorizer (http_service over a cluster, or grpc_service with
// envoy_grpc), how failures are treated (failure_mode_allow, status_on_error), when the filter runs at all
// (filter_enabled_metadata) and which headers cross in each direction. Fields this proxy cannot honour
// (google_grpc, transport_api_version V2, runtime filter_enabled, per-route settings that need
// machinery we do not have) are refused so the update is NACKed rather than silently not enforced.
// Envoy: api/envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto; source/extensions/filters/http/
// ext_authz/config.cc and source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc (ClientConfig).

import type { ExtAuthz } from '../../../xds/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import type { ListStringMatcher } from '../../../xds/gen/envoy/type/matcher/v3/string_pb.js';
import { ApiVersion } from '../../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { compileStringMatcher, type StringPredicate } from '../../http/route/string-matcher.js';
import { durationMs } from '../../runtime/duration.js';
import { compileMetadataMatcher, type MetadataPredicate } from '../rbac/metadata-matcher.js';

export const EXT_AUTHZ_FILTER_TYPE = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';

/** Whether a (lower-case) header name is selected. */
export type HeaderNamePredicate = (name: string) => boolean;

const NONE: HeaderNamePredicate = () => false;

export interface HttpAuthzService {
  readonly kind: 'http';
  readonly cluster: string;
  readonly timeoutMs: number;
  readonly pathPrefix: string;
  /** Request headers copied into the check request (always authorization, method, path and host as well). */
  readonly requestHeaders: HeaderNamePredicate;
  /** authorization_request.headers_to_add: set on the check request, overwriting. */
  readonly headersToAdd: readonly (readonly [string, string])[];
  /** On allow: authorizer headers that overwrite/add to the upstream request. */
  readonly upstreamHeaders: HeaderNamePredicate;
  /** On allow: authorizer headers appended to the upstream request. */
  readonly upstreamHeadersToAppend: HeaderNamePredicate;
  /** On deny: authorizer headers sent to the client (unset: all but host). */
  readonly clientHeaders: HeaderNamePredicate;
  /** On allow: authorizer headers added to the client's response. */
  readonly clientHeadersOnSuccess: HeaderNamePredicate;
}

export interface GrpcAuthzService {
  readonly kind: 'grpc';
  readonly cluster: string;
  /** :authority of the calls ('' = the cluster name, as Envoy's envoy_grpc does). */
  readonly authority: string;
  readonly timeoutMs: number;
}

export interface BodySettings {
  readonly maxRequestBytes: number;
  readonly allowPartialMessage: boolean;
  readonly packAsBytes: boolean;
}

export interface ExtAuthzConfig {
  readonly service: HttpAuthzService | GrpcAuthzService;
  readonly failureModeAllow: boolean;
  /** Adds `x-envoy-auth-failure-mode-allowed: true` upstream when an error is let through. */
  readonly failureModeAllowHeaderAdd: boolean;
  /** The local reply status on an error (status_on_error, default 403). */
  readonly statusOnError: number;
  /** filter_enabled_metadata; undefined = always enabled. */
  readonly enabled: MetadataPredicate | undefined;
  readonly withRequestBody: BodySettings | undefined;
  /** Top-level allowed_headers/disallowed_headers: which request headers the check request carries. */
  readonly allowedHeaders: HeaderNamePredicate | undefined;
  readonly disallowedHeaders: HeaderNamePredicate;
  /** Dynamic metadata namespaces copied into the gRPC check's metadata_context. */
  readonly metadataContextNamespaces: readonly string[];
  /** include_tls_session: the gRPC check carries the SNI. */
  readonly includeTlsSession: boolean;
  /** `http.<hcm stat_prefix>.ext_authz.<statPrefix>` (with the trailing dot when set). */
  readonly statPrefix: string;
}

export type ExtAuthzConfigResult = { readonly ok: true; readonly value: ExtAuthzConfig } | { readonly ok: false; readonly problems: string[] };

/** A ListStringMatcher as a predicate over header names; undefined when the list is absent or empty. */
function headerList(l: ListStringMatcher | undefined, path: string, problems: string[]): HeaderNamePredicate | undefined {
  if (l === undefined || l.patterns.length === 0) return undefined;
  const tests = l.patterns.map((p, i) => compileStringMatcher(p, `${path}.patterns[${i}]`, problems));
  return (name) => tests.some((t) => t(name));
}

/** The names Envoy always copies into an HTTP check request (ClientConfig::toRequestMatchers). */
const ALWAYS_SENT = new Set(['authorization', ':method', ':path', ':authority', 'host']);
/** Added to a configured allowed_client_headers list (ClientConfig::toClientMatchers). */
const ALWAYS_TO_CLIENT = new Set([':status', 'content-length', 'www-authenticate', 'location']);

function httpService(m: ExtAuthz, allowed: HeaderNamePredicate | undefined, path: string, problems: string[]): HttpAuthzService | undefined {
  if (m.services.case !== 'httpService') return undefined;
  const h = m.services.value;
  const p = `${path}.http_service`;
  const uri = h.serverUri;
  let cluster = '';
  if (uri === undefined) problems.push(`${p}.server_uri: value is required`);
  else {
    if (uri.httpUpstreamType.case !== 'cluster' || uri.httpUpstreamType.value === '') problems.push(`${p}.server_uri.cluster: value length must be at least 1 characters`);
    else cluster = uri.httpUpstreamType.value;
    if (uri.timeout === undefined) problems.push(`${p}.server_uri.timeout: value is required`);
  }
  const rq = h.authorizationRequest;
  const rs = h.authorizationResponse;
  // The top-level allowed_headers, else the deprecated authorization_request.allowed_headers, add to the
  // always-sent ones (ext_authz.proto allowed_headers).
  const extra = allowed ?? headerList(rq?.allowedHeaders, `${p}.authorization_request.allowed_headers`, problems) ?? NONE;
  const headersToAdd: (readonly [string, string])[] = [];
  rq?.headersToAdd.forEach((hv, i) => {
    if (hv.key === '') problems.push(`${p}.authorization_request.headers_to_add[${i}].key: value length must be at least 1 characters`);
    else headersToAdd.push([hv.key.toLowerCase(), hv.value]);
  });
  const client = headerList(rs?.allowedClientHeaders, `${p}.authorization_response.allowed_client_headers`, problems);
  return {
    kind: 'http',
    cluster,
    timeoutMs: durationMs(uri?.timeout, 0),
    pathPrefix: h.pathPrefix,
    requestHeaders: (n) => ALWAYS_SENT.has(n) || extra(n),
    headersToAdd,
    upstreamHeaders: headerList(rs?.allowedUpstreamHeaders, `${p}.authorization_response.allowed_upstream_headers`, problems) ?? NONE,
    upstreamHeadersToAppend: headerList(rs?.allowedUpstreamHeadersToAppend, `${p}.authorization_response.allowed_upstream_headers_to_append`, problems) ?? NONE,
    clientHeaders: client === undefined ? (n) => n !== 'host' && n !== ':authority' : (n) => ALWAYS_TO_CLIENT.has(n) || client(n),
    clientHeadersOnSuccess: headerList(rs?.allowedClientHeadersOnSuccess, `${p}.authorization_response.allowed_client_headers_on_success`, problems) ?? NONE,
  };
}

function grpcService(m: ExtAuthz, path: string, problems: string[]): GrpcAuthzService | undefined {
  if (m.services.case !== 'grpcService') return undefined;
  const g = m.services.value;
  const p = `${path}.grpc_service`;
  const t = g.targetSpecifier;
  if (t.case !== 'envoyGrpc') {
    problems.push(`${p}: only envoy_grpc is supported`);
    return undefined;
  }
  if (t.value.clusterName === '') problems.push(`${p}.envoy_grpc.cluster_name: value length must be at least 1 characters`);
  // Envoy's ext_authz gRPC client defaults to a 200 ms deadline (config.cc DefaultTimeout).
  return { kind: 'grpc', cluster: t.value.clusterName, authority: t.value.authority || t.value.clusterName, timeoutMs: durationMs(g.timeout, 200) };
}

export function compileExtAuthz(m: ExtAuthz, path: string): ExtAuthzConfigResult {
  const problems: string[] = [];
  // AUTO (unset) means V3, the only version there is (config_source.proto ApiVersion).
  if (m.transportApiVersion === ApiVersion.V2) problems.push(`${path}.transport_api_version: only V3 is supported`);
  const allowedHeaders = headerList(m.allowedHeaders, `${path}.allowed_headers`, problems);
  const service = m.services.case === 'httpService' ? httpService(m, allowedHeaders, path, problems) : m.services.case === 'grpcService' ? grpcService(m, path, problems) : undefined;
  if (m.services.case === undefined) problems.push(`${path}.services: one of grpc_service or http_service must be set`);
  if (m.filterEnabled !== undefined) problems.push(`${path}.filter_enabled: runtime fractions are not supported`);
  if (m.denyAtDisable !== undefined) problems.push(`${path}.deny_at_disable: not supported`);
  const enabled = m.filterEnabledMetadata !== undefined ? compileMetadataMatcher(m.filterEnabledMetadata, `${path}.filter_enabled_metadata`, problems) : undefined;
  const b = m.withRequestBody;
  if (b !== undefined && b.maxRequestBytes <= 0) problems.push(`${path}.with_request_body.max_request_bytes: value must be greater than 0`);
  const status = m.statusOnError?.code ?? 0;
  const disallowedHeaders = headerList(m.disallowedHeaders, `${path}.disallowed_headers`, problems) ?? NONE;
  if (problems.length > 0 || service === undefined) return { ok: false, problems };
  return {
    ok: true,
    value: Object.freeze({
      service: Object.freeze(service),
      failureModeAllow: m.failureModeAllow,
      failureModeAllowHeaderAdd: m.failureModeAllowHeaderAdd,
      // HttpStatus with no code (0) falls back to Forbidden, as Envoy's toErrorCode does.
      statusOnError: status >= 100 && status <= 599 ? status : 403,
      enabled,
      withRequestBody: b !== undefined ? Object.freeze({ maxRequestBytes: b.maxRequestBytes, allowPartialMessage: b.allowPartialMessage, packAsBytes: b.packAsBytes }) : undefined,
      allowedHeaders,
      disallowedHeaders,
      metadataContextNamespaces: Object.freeze([...m.metadataContextNamespaces]),
      includeTlsSession: m.includeTlsSession,
      statPrefix: m.statPrefix === '' ? '' : `${m.statPrefix}.`,
    }),
  };
}

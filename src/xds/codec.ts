// Packing xDS resources into Any, their content versions, and proto3 JSON for dumps. The type registry
// lists every message that may sit inside an Any in what Isthmus generates or reads (resources, filter
// configs, transport sockets, upstream options), so JSON dumps can expand them as Envoy's config_dump does.

import { createHash } from 'node:crypto';
import { createRegistry, toBinary, toJson, type DescMessage, type MessageShape, type JsonValue } from '@bufbuild/protobuf';
import { anyPack, BytesValueSchema, StringValueSchema, StructSchema, type Any } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from './gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from './gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from './gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from './gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { SecretSchema } from './gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema } from './gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HttpConnectionManagerSchema } from './gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from './gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { RBACSchema as NetworkRBACSchema } from './gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import { RouterSchema } from './gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HTTPFaultSchema } from './gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsSchema, CorsPolicySchema } from './gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { GrpcWebSchema } from './gen/envoy/extensions/filters/http/grpc_web/v3/grpc_web_pb.js';
import { RBACSchema as HttpRBACSchema, RBACPerRouteSchema } from './gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { JwtAuthenticationSchema } from './gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { ExtAuthzSchema } from './gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { WasmSchema as HttpWasmSchema } from './gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { WasmSchema as NetworkWasmSchema } from './gen/envoy/extensions/filters/network/wasm/v3/wasm_pb.js';
import { TlsInspectorSchema } from './gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { HttpInspectorSchema } from './gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { OriginalDstSchema } from './gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { HttpProtocolOptionsSchema } from './gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { CaresDnsResolverConfigSchema } from './gen/envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver_pb.js';
import { GetAddrInfoDnsResolverConfigSchema } from './gen/envoy/extensions/network/dns_resolver/getaddrinfo/v3/getaddrinfo_dns_resolver_pb.js';
import { PreviousHostsPredicateSchema } from './gen/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';
import { PreviousPrioritiesConfigSchema } from './gen/envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config_pb.js';
import { FileAccessLogSchema } from './gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { StdoutAccessLogSchema, StderrAccessLogSchema } from './gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import { ExpressionFilterSchema } from './gen/envoy/extensions/access_loggers/filters/cel/v3/cel_pb.js';
import { UriTemplateMatchConfigSchema } from './gen/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.js';
import { UriTemplateRewriteConfigSchema } from './gen/envoy/extensions/path/rewrite/uri_template/v3/uri_template_rewrite_pb.js';
import { RawBufferSchema } from './gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { TypedStructSchema as UdpaTypedStructSchema } from './gen/udpa/type/v1/typed_struct_pb.js';
import { OpenTelemetryConfigSchema } from './gen/envoy/config/trace/v3/opentelemetry_pb.js';
import { ZipkinConfigSchema } from './gen/envoy/config/trace/v3/zipkin_pb.js';
import { StatefulSessionSchema, StatefulSessionPerRouteSchema } from './gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { CookieBasedSessionStateSchema } from './gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { HeaderBasedSessionStateSchema } from './gen/envoy/extensions/http/stateful_session/header/v3/header_pb.js';
import { FilterConfigSchema as AlpnFilterConfigSchema } from './gen/istio/envoy/config/filter/http/alpn/v2alpha1/config_pb.js';

export const XDS_REGISTRY = createRegistry(
  ListenerSchema,
  // Wasm plugin and VM configuration travel as these (Istio packs pluginConfig as a StringValue).
  StringValueSchema,
  BytesValueSchema,
  StructSchema,
  // Istio's own filter configs (istio.metadata_exchange, istio.stats) travel as TypedStructs.
  UdpaTypedStructSchema,
  FileAccessLogSchema,
  StdoutAccessLogSchema,
  StderrAccessLogSchema,
  // The CEL access log filter (Telemetry accessLogging filter.expression).
  ExpressionFilterSchema,
  RouteConfigurationSchema,
  ClusterSchema,
  ClusterLoadAssignmentSchema,
  SecretSchema,
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
  HttpConnectionManagerSchema,
  TcpProxySchema,
  NetworkRBACSchema,
  RouterSchema,
  HTTPFaultSchema,
  CorsSchema,
  CorsPolicySchema,
  GrpcWebSchema,
  HttpRBACSchema,
  RBACPerRouteSchema,
  JwtAuthenticationSchema,
  ExtAuthzSchema,
  HttpWasmSchema,
  NetworkWasmSchema,
  TlsInspectorSchema,
  HttpInspectorSchema,
  OriginalDstSchema,
  HttpProtocolOptionsSchema,
  // A DNS cluster's typed_dns_resolver_config.
  CaresDnsResolverConfigSchema,
  GetAddrInfoDnsResolverConfigSchema,
  RawBufferSchema,
  PreviousHostsPredicateSchema,
  PreviousPrioritiesConfigSchema,
  UriTemplateMatchConfigSchema,
  UriTemplateRewriteConfigSchema,
  // HCM tracing providers (envoy.tracers.opentelemetry, envoy.tracers.zipkin).
  OpenTelemetryConfigSchema,
  ZipkinConfigSchema,
  // Istio's istio.alpn HTTP filter, which istiod packs as its own proto (not a TypedStruct).
  AlpnFilterConfigSchema,
  // Persistent sessions (envoy.filters.http.stateful_session and its cookie and header session states).
  StatefulSessionSchema,
  StatefulSessionPerRouteSchema,
  CookieBasedSessionStateSchema,
  HeaderBasedSessionStateSchema,
);

/** Any with `type.googleapis.com/<full name>`. */
export function pack<D extends DescMessage>(schema: D, message: MessageShape<D>): Any {
  return anyPack(schema, message);
}

/** A resource's content version: a short hash of its binary encoding (deterministic: generated maps are built sorted). */
export function contentVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 16);
}

export function encode<D extends DescMessage>(schema: D, message: MessageShape<D>): Uint8Array {
  return toBinary(schema, message);
}

/** proto3 JSON with Anys expanded (`@type`), as Envoy's config_dump prints. */
export function toDumpJson<D extends DescMessage>(schema: D, message: MessageShape<D>): JsonValue {
  return toJson(schema, message, { registry: XDS_REGISTRY, alwaysEmitImplicit: false });
}

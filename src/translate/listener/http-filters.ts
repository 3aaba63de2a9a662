// The HCM's http_filters in Istio's order (listener_builder.go buildHTTPConnectionManager; grpcgen/lds.go for
// proxyless). Istio's list is: metadata exchange, ext-authz, authn (jwt), authz (RBAC), WasmPlugins, grpc-web,
// grpc_stats, alpn, fault, cors, telemetry stats, stateful session, router. Isthmus emits istio.metadata_exchange
// first (translate/telemetry/metadata-exchange.ts), the security filters, grpc_web on a port whose protocol is
// GRPC-Web, istio.alpn on outbound and gateway HCMs
// (not inbound: features.ALPNFilter), the standard Envoy filters the routes configure per route (fault, cors),
// istio.stats in the telemetry slot (translate/telemetry/stats-filter.ts), the empty stateful_session filter in
// the session slot when PILOT_ENABLE_PERSISTENT_SESSION_FILTER is on (translate/httpfilter/stateful-session.ts)
// and the router, which must be last (Envoy and grpc-js-xds reject anything else). grpc_stats is not emitted.
// istio.alpn (xds/filters Alpn) replaces an in-mesh mTLS cluster's ALPN (`istio-peer-exchange`, `istio`) per
// request with the upstream protocol's (`istio-http/1.1`, `istio`, `http/1.1` ...), so HTTP lands on the
// server's HTTP filter chains and never negotiates the TCP metadata exchange. It is Istio's own proto packed as
// is (not a TypedStruct), as istiod sends it; Istio's Envoy registers it, proxyless clients never get it.
// WasmPlugins (HTTP type) are placed inside the `security` slot by translate/extensions/wasm-filter-placement.ts:
// AUTHN before jwt_authn, AUTHZ before RBAC, then STATS and UNSPECIFIED right after RBAC (Istio's code, ahead of
// fault and cors; its API docs describe UNSPECIFIED as "right before the router").

import { create } from '@bufbuild/protobuf';
import { pack } from '../../xds/codec.js';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HTTPFaultSchema } from '../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { CorsSchema } from '../../xds/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { RouterSchema } from '../../xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  FilterConfig_AlpnOverrideSchema as AlpnOverrideSchema,
  FilterConfig_Protocol as AlpnProtocol,
  FilterConfigSchema as AlpnFilterConfigSchema,
} from '../../xds/gen/istio/envoy/config/filter/http/alpn/v2alpha1/config_pb.js';
import { GrpcWebSchema } from '../../xds/gen/envoy/extensions/filters/http/grpc_web/v3/grpc_web_pb.js';
import { CORS_FILTER, FAULT_FILTER, GRPC_WEB_FILTER, ROUTER_FILTER } from './well-known.js';

/** Istio's ListenerClass: which side of the proxy an HCM serves. */
export type ListenerClass = 'sidecar-outbound' | 'sidecar-inbound' | 'gateway';

export function faultFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: FAULT_FILTER, configType: { case: 'typedConfig', value: pack(HTTPFaultSchema, create(HTTPFaultSchema)) } });
}

/** xdsfilters.GrpcWeb: Istio adds it to the connection manager of a GRPC-Web port (browsers' gRPC-Web to gRPC). */
export function grpcWebFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: GRPC_WEB_FILTER, configType: { case: 'typedConfig', value: pack(GrpcWebSchema, create(GrpcWebSchema)) } });
}

export function corsFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: CORS_FILTER, configType: { case: 'typedConfig', value: pack(CorsSchema, create(CorsSchema)) } });
}

/** filters.AlpnFilterName. */
export const ALPN_FILTER = 'istio.alpn';

/**
 * mtlsHTTP10ALPN / mtlsHTTP11ALPN / mtlsHTTP2ALPN: Istio's in-mesh ALPN for the protocol, `istio` (older
 * proxies), and the plain protocol for upstreams outside the mesh (the filter cannot tell them apart).
 */
const ALPN_OVERRIDES: readonly (readonly [AlpnProtocol, readonly string[]])[] = [
  [AlpnProtocol.HTTP10, ['istio-http/1.0', 'istio', 'http/1.0']],
  [AlpnProtocol.HTTP11, ['istio-http/1.1', 'istio', 'http/1.1']],
  [AlpnProtocol.HTTP2, ['istio-h2', 'istio', 'h2']],
];

let alpn: HttpFilter | undefined;

/** xds/filters Alpn (built once; never mutate the result). */
export function alpnFilter(): HttpFilter {
  return (alpn ??= create(HttpFilterSchema, {
    name: ALPN_FILTER,
    configType: {
      case: 'typedConfig',
      value: pack(
        AlpnFilterConfigSchema,
        create(AlpnFilterConfigSchema, { alpnOverride: ALPN_OVERRIDES.map(([upstreamProtocol, list]) => create(AlpnOverrideSchema, { upstreamProtocol, alpnOverride: [...list] })) }),
      ),
    },
  }));
}

export function routerFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: ROUTER_FILTER, configType: { case: 'typedConfig', value: pack(RouterSchema, create(RouterSchema)) } });
}

/** Filters that run before routing-related ones (Istio: ext-authz, jwt_authn, RBAC, and WasmPlugins of every phase). */
export interface HttpFilterSlots {
  /** First of all (Istio: istio.metadata_exchange, so that RBAC and stats see the peer). */
  readonly metadataExchange?: readonly HttpFilter[];
  readonly security?: readonly HttpFilter[];
  /** After the security filters, before fault (Istio: grpc-web on GRPC-Web ports, grpc_stats, then istio.alpn on outbound and gateway HCMs). */
  readonly alpn?: readonly HttpFilter[];
  /** After cors (Istio: telemetry stats). */
  readonly telemetry?: readonly HttpFilter[];
  /** After telemetry, right before the router (Istio: EmptySessionFilter, not on sidecar inbound). */
  readonly session?: readonly HttpFilter[];
}

/** Envoy proxies (sidecars and gateways): [metadata exchange..., security..., alpn..., fault, cors, telemetry..., session..., router]. */
export function buildHttpFilters(slots: HttpFilterSlots = {}): HttpFilter[] {
  return [
    ...(slots.metadataExchange ?? []),
    ...(slots.security ?? []),
    ...(slots.alpn ?? []),
    faultFilter(),
    corsFilter(),
    ...(slots.telemetry ?? []),
    ...(slots.session ?? []),
    routerFilter(),
  ];
}

/** Proxyless gRPC (grpcgen supportedFilters): fault and router; gRPC supports nothing else on the client. */
export function buildProxylessHttpFilters(): HttpFilter[] {
  return [faultFilter(), routerFilter()];
}

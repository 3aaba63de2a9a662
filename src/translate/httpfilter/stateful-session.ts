// Persistent (sticky) sessions, as istiod emits them behind PILOT_ENABLE_PERSISTENT_SESSION_FILTER:
// - an EMPTY envoy.filters.http.stateful_session filter on every HTTP connection manager whose class is not
//   sidecar inbound, after the telemetry filters and before the router (listener_builder.go
//   buildHTTPConnectionManager, xds/filters EmptySessionFilter), so routes can turn it on;
// - for a service labelled PILOT_PERSISTENT_SESSION_LABEL (cookie) or PILOT_PERSISTENT_SESSION_HEADER_LABEL
//   (header), a StatefulSessionPerRoute under that filter's name in typed_per_filter_config of the routes to it
//   (route/route.go TranslateRoute), of its sidecar outbound virtual host (httproute.go) and of a gateway
//   virtual host named after it (gateway.go buildGatewayHTTPRouteConfig). The callers decide where; this file
//   builds the configs (networking/util/util.go MaybeBuildStatefulSessionFilterConfig).
// Deviation from Istio: proxyless gRPC clients get nothing. istiod gives them a stateful_session filter per
// service (grpcgen/lds.go), but @grpc/grpc-js-xds, the client Isthmus serves, does not implement the filter
// and would NACK the listener; so no filter, per-route or per-virtual-host config is sent to them.
// Pure; filters and configs are shared between listeners and routes, never mutated.

import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { PilotFeatures } from '../../model/pilot-features.js';
import type { Service } from '../../registry/types.js';
import { pack } from '../../xds/codec.js';
import { TypedExtensionConfigSchema } from '../../xds/gen/envoy/config/core/v3/extension_pb.js';
import {
  StatefulSessionPerRouteSchema,
  StatefulSessionSchema,
  type StatefulSession,
} from '../../xds/gen/envoy/extensions/filters/http/stateful_session/v3/stateful_session_pb.js';
import { CookieBasedSessionStateSchema } from '../../xds/gen/envoy/extensions/http/stateful_session/cookie/v3/cookie_pb.js';
import { HeaderBasedSessionStateSchema } from '../../xds/gen/envoy/extensions/http/stateful_session/header/v3/header_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { CookieSchema } from '../../xds/gen/envoy/type/http/v3/cookie_pb.js';
import type { ProxyContext } from '../context.js';
import type { FilterChainOpts } from '../listener/filter-chain-opts.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { STATEFUL_SESSION_FILTER } from '../listener/well-known.js';

/** The session_state extension names Istio gives the cookie and header session states. */
export const COOKIE_SESSION_STATE = 'envoy.http.stateful_session.cookie';
export const HEADER_SESSION_STATE = 'envoy.http.stateful_session.header';

/** Whether this proxy gets anything of persistent sessions: the flag is on and it is not proxyless gRPC. */
export function persistentSessionsFor(ctx: ProxyContext): boolean {
  return ctx.proxy.type !== 'proxyless' && ctx.snapshot.features.enablePersistentSessionFilter;
}

/** The service's label `key`, '' when absent (own keys only: a label name is configuration, not code). */
export function labelValue(service: Service, key: string): string {
  return Object.hasOwn(service.labels, key) ? (service.labels[key] ?? '') : '';
}

/**
 * MaybeBuildStatefulSessionFilterConfig: undefined without a service or with the flag off; the cookie label
 * wins over the header label. A cookie label value is `name` (path `/`) or `name:path`, cut at the first `:`
 * (strings.Cut). No TTL: session cookies, as Istio sends them. (Kubernetes label values cannot hold `:` or
 * `/`, so the `name:path` form only comes from labels that skipped that validation; it is kept as Istio has it.)
 */
export function statefulSessionConfig(features: PilotFeatures, service: Service | undefined): StatefulSession | undefined {
  if (service === undefined || !features.enablePersistentSessionFilter) return undefined;
  // Istio indexes the label map with the configured name even when it is '' (a '' key never holds a value
  // in Kubernetes labels, so an empty label name turns that kind off).
  const cookie = labelValue(service, features.persistentSessionLabel);
  const header = labelValue(service, features.persistentSessionHeaderLabel);
  if (cookie !== '') {
    const colon = cookie.indexOf(':');
    const name = colon < 0 ? cookie : cookie.slice(0, colon);
    const path = colon < 0 ? '/' : cookie.slice(colon + 1);
    return create(StatefulSessionSchema, {
      sessionState: create(TypedExtensionConfigSchema, {
        name: COOKIE_SESSION_STATE,
        typedConfig: pack(CookieBasedSessionStateSchema, create(CookieBasedSessionStateSchema, { cookie: create(CookieSchema, { name, path }) })),
      }),
    });
  }
  if (header !== '') {
    return create(StatefulSessionSchema, {
      sessionState: create(TypedExtensionConfigSchema, {
        name: HEADER_SESSION_STATE,
        typedConfig: pack(HeaderBasedSessionStateSchema, create(HeaderBasedSessionStateSchema, { name: header })),
      }),
    });
  }
  return undefined;
}

/**
 * The session config of a route whose destinations are `hostnames` (route/route.go TranslateRoute), with
 * Istio's loop kept as is, quirks included: each hostname's config replaces the result, so a later hostname
 * WITHOUT a config resets it to none ([a, b-without] -> none; [a-without, b] -> b), while a second hostname
 * WITH a config, once one is held, stops the loop and keeps the first ([a, b] -> a; Istio logs "More than one
 * stateful config for the same route"). Undefined at once with the flag off (Istio's lookups would all yield nil).
 */
export function routeStatefulSession(features: PilotFeatures, hostnames: readonly string[], lookup: (hostname: string) => Service | undefined): StatefulSession | undefined {
  if (!features.enablePersistentSessionFilter) return undefined;
  let result: StatefulSession | undefined;
  for (const hostname of hostnames) {
    const perService = statefulSessionConfig(features, lookup(hostname));
    if (perService !== undefined && result !== undefined) break;
    result = perService;
  }
  return result;
}

/** StatefulSessionPerRoute{stateful_session: cfg}, packed for typed_per_filter_config[STATEFUL_SESSION_FILTER]. */
export function statefulSessionPerRoute(cfg: StatefulSession): Any {
  return pack(StatefulSessionPerRouteSchema, create(StatefulSessionPerRouteSchema, { override: { case: 'statefulSession', value: cfg } }));
}

/** `{envoy.filters.http.stateful_session: StatefulSessionPerRoute}` for the service, or `{}` (Istio's pervirtualHostFilters). */
export function virtualHostSessionConfig(ctx: ProxyContext, service: Service | undefined): Record<string, Any> {
  if (!persistentSessionsFor(ctx)) return {};
  const cfg = statefulSessionConfig(ctx.snapshot.features, service);
  return cfg === undefined ? {} : { [STATEFUL_SESSION_FILTER]: statefulSessionPerRoute(cfg) };
}

let empty: HttpFilter | undefined;

/** xdsfilters.EmptySessionFilter: the filter with StatefulSession{} (built once; never mutate the result). */
export function emptySessionFilter(): HttpFilter {
  return (empty ??= create(HttpFilterSchema, {
    name: STATEFUL_SESSION_FILTER,
    configType: { case: 'typedConfig', value: pack(StatefulSessionSchema, create(StatefulSessionSchema)) },
  }));
}

/** The HCM's `session` slot for this proxy and class: the empty filter, or nothing. */
export function sessionHttpFilters(ctx: ProxyContext, cls: ListenerClass): readonly HttpFilter[] {
  return persistentSessionsFor(ctx) && cls !== 'sidecar-inbound' ? [emptySessionFilter()] : [];
}

/** An outbound or gateway chain with the session filter in its HCM's `session` slot; TCP chains unchanged. */
export function chainWithSession(ctx: ProxyContext, cls: ListenerClass, c: FilterChainOpts): FilterChainOpts {
  if (c.http === undefined) return c;
  const session = sessionHttpFilters(ctx, cls);
  if (session.length === 0) return c;
  return { ...c, http: { ...c.http, filters: { ...c.http.filters, session } } };
}

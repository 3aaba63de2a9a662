// Tiny builders for hand-made Envoy resources (protobuf-es `create()`), for tests of the simulation and golden
// harnesses and for translation tests that need a resource Isthmus did not generate. They build exactly what
// they are told: no defaults beyond Envoy's own, no Istio conventions.

import type { StatsScope } from '../../src/proxy/stats/stats-store.js';
import { create, fromJson, type JsonObject, type MessageInitShape } from '@bufbuild/protobuf';
import type { ProxyResources } from '../../src/translate/resources.js';
import { pack, XDS_REGISTRY } from '../../src/xds/codec.js';
import { systemClock } from '../../src/lib/clock.js';
import { seededRandom } from '../../src/proxy/lib/random.js';
import { compileCluster, type CompiledCluster } from '../../src/proxy/runtime/compile-cluster.js';
import { ClusterManager } from '../../src/proxy/upstream/cluster-manager.js';
import { NO_SECRETS } from '../../src/proxy/upstream/connection-pools.js';
import { ListenerSchema, type Listener } from '../../src/xds/gen/envoy/config/listener/v3/listener_pb.js';
import {
  FilterChainSchema,
  type Filter,
  type FilterChain,
  type FilterChainMatchSchema,
  type ListenerFilter,
} from '../../src/xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../src/xds/gen/envoy/config/route/v3/route_pb.js';
import {
  DirectResponseActionSchema,
  RedirectActionSchema,
  RouteActionSchema,
  RouteSchema,
  VirtualHostSchema,
  type Route,
  type RouteMatchSchema,
  type VirtualHost,
} from '../../src/xds/gen/envoy/config/route/v3/route_components_pb.js';
import { ClusterSchema, type Cluster } from '../../src/xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HttpConnectionManagerSchema, HttpFilterSchema, RdsSchema } from '../../src/xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../src/xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { RouterSchema } from '../../src/xds/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { TlsInspectorSchema } from '../../src/xds/gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { HttpInspectorSchema } from '../../src/xds/gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';
import { OriginalDstSchema } from '../../src/xds/gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
import { DownstreamTlsContextSchema } from '../../src/xds/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';

export type MatchInit = MessageInitShape<typeof FilterChainMatchSchema>;
export type RouteMatchInit = MessageInitShape<typeof RouteMatchSchema>;
/** A route's action oneof, as built by toCluster / toWeighted / directResponse. */
export type RouteActionInit = Route['action'];

/** HCM with the router filter, taking its routes from RDS (`rds`) or inline (`routeConfig`). */
export function hcmFilter(routes: { rds: string } | { routeConfig: RouteConfiguration }, extra: MessageInitShape<typeof HttpConnectionManagerSchema> = {}): Filter {
  const hcm = create(HttpConnectionManagerSchema, extra);
  if (hcm.statPrefix === '') hcm.statPrefix = 'test';
  hcm.routeSpecifier = 'rds' in routes
    ? { case: 'rds', value: create(RdsSchema, { routeConfigName: routes.rds, configSource: { configSourceSpecifier: { case: 'ads', value: {} } } }) }
    : { case: 'routeConfig', value: routes.routeConfig };
  if (hcm.httpFilters.length === 0) {
    hcm.httpFilters = [create(HttpFilterSchema, { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: pack(RouterSchema, create(RouterSchema)) } })];
  }
  return { $typeName: 'envoy.config.listener.v3.Filter', name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: pack(HttpConnectionManagerSchema, hcm) } };
}

/** tcp_proxy to one cluster, or weighted clusters. */
export function tcpProxyFilter(target: string | readonly { name: string; weight: number }[]): Filter {
  const tcp = create(TcpProxySchema, {
    statPrefix: 'test',
    clusterSpecifier: typeof target === 'string'
      ? { case: 'cluster', value: target }
      : { case: 'weightedClusters', value: { clusters: target.map((t) => ({ name: t.name, weight: t.weight })) } },
  });
  return { $typeName: 'envoy.config.listener.v3.Filter', name: 'envoy.filters.network.tcp_proxy', configType: { case: 'typedConfig', value: pack(TcpProxySchema, tcp) } };
}

export interface ChainSpec {
  readonly name?: string;
  readonly match?: MatchInit;
  readonly filters: readonly Filter[];
  /** Terminate TLS on this chain (DownstreamTlsContext); `mtls` also requires a client certificate. */
  readonly tls?: 'tls' | 'mtls';
}

export function filterChain(spec: ChainSpec): FilterChain {
  return create(FilterChainSchema, {
    name: spec.name ?? '',
    ...(spec.match !== undefined ? { filterChainMatch: spec.match } : {}),
    filters: [...spec.filters],
    ...(spec.tls !== undefined
      ? {
          transportSocket: {
            name: 'envoy.transport_sockets.tls',
            configType: { case: 'typedConfig', value: pack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, { requireClientCertificate: spec.tls === 'mtls' })) },
          },
        }
      : {}),
  });
}

export type ListenerFilterName = 'tls_inspector' | 'http_inspector' | 'original_dst';

function listenerFilter(name: ListenerFilterName): ListenerFilter {
  const value =
    name === 'tls_inspector' ? pack(TlsInspectorSchema, create(TlsInspectorSchema))
    : name === 'http_inspector' ? pack(HttpInspectorSchema, create(HttpInspectorSchema))
    : pack(OriginalDstSchema, create(OriginalDstSchema));
  return { $typeName: 'envoy.config.listener.v3.ListenerFilter', name: `envoy.filters.listener.${name}`, configType: { case: 'typedConfig', value } };
}

export interface ListenerSpec {
  readonly name: string;
  readonly address?: string;
  readonly port: number;
  readonly chains: readonly FilterChain[];
  readonly defaultChain?: FilterChain;
  readonly bindToPort?: boolean;
  readonly useOriginalDst?: boolean;
  readonly listenerFilters?: readonly ListenerFilterName[];
}

export function listener(spec: ListenerSpec): Listener {
  return create(ListenerSchema, {
    name: spec.name,
    address: { address: { case: 'socketAddress', value: { address: spec.address ?? '0.0.0.0', portSpecifier: { case: 'portValue', value: spec.port } } } },
    filterChains: [...spec.chains],
    listenerFilters: (spec.listenerFilters ?? []).map(listenerFilter),
    ...(spec.defaultChain !== undefined ? { defaultFilterChain: spec.defaultChain } : {}),
    ...(spec.bindToPort !== undefined ? { bindToPort: spec.bindToPort } : {}),
    ...(spec.useOriginalDst !== undefined ? { useOriginalDst: spec.useOriginalDst } : {}),
  });
}

/** A listener with one HCM chain using RDS route `routeName`. */
export function httpListener(spec: { name: string; address?: string; port: number; routeName: string; bindToPort?: boolean }): Listener {
  return listener({ ...spec, chains: [filterChain({ name: spec.name, filters: [hcmFilter({ rds: spec.routeName })] })] });
}

/** A listener with one tcp_proxy chain to `cluster`. */
export function tcpListener(spec: { name: string; address?: string; port: number; cluster: string; bindToPort?: boolean }): Listener {
  return listener({ ...spec, chains: [filterChain({ name: spec.name, filters: [tcpProxyFilter(spec.cluster)] })] });
}

/** A proxyless gRPC listener: api_listener holding an HCM over RDS. */
export function apiListener(name: string, routeName: string): Listener {
  const hcm = hcmFilter({ rds: routeName });
  if (hcm.configType.case !== 'typedConfig') throw new Error('hcmFilter built no typed_config');
  return create(ListenerSchema, { name, apiListener: { apiListener: hcm.configType.value } });
}

export function routeConfig(name: string, virtualHosts: readonly VirtualHost[], extra: MessageInitShape<typeof RouteConfigurationSchema> = {}): RouteConfiguration {
  const rc = create(RouteConfigurationSchema, extra);
  rc.name = name;
  rc.virtualHosts = [...virtualHosts];
  return rc;
}

export function vhost(name: string, domains: readonly string[], routes: readonly Route[], extra: MessageInitShape<typeof VirtualHostSchema> = {}): VirtualHost {
  const vh = create(VirtualHostSchema, extra);
  vh.name = name;
  vh.domains = [...domains];
  vh.routes = [...routes];
  return vh;
}

export function route(name: string, match: RouteMatchInit, action: RouteActionInit): Route {
  return create(RouteSchema, { name, match, action });
}

export const prefix = (p: string): RouteMatchInit => ({ pathSpecifier: { case: 'prefix', value: p } });
export const exactPath = (p: string): RouteMatchInit => ({ pathSpecifier: { case: 'path', value: p } });
export const regexPath = (re: string): RouteMatchInit => ({ pathSpecifier: { case: 'safeRegex', value: { regex: re } } });

export const toCluster = (cluster: string): RouteActionInit => ({
  case: 'route',
  value: create(RouteActionSchema, { clusterSpecifier: { case: 'cluster', value: cluster } }),
});
export const toWeighted = (clusters: readonly { name: string; weight: number }[]): RouteActionInit => ({
  case: 'route',
  value: create(RouteActionSchema, { clusterSpecifier: { case: 'weightedClusters', value: { clusters: clusters.map((c) => ({ name: c.name, weight: c.weight })) } } }),
});
export const redirect = (init: MessageInitShape<typeof RedirectActionSchema>): RouteActionInit => ({ case: 'redirect', value: create(RedirectActionSchema, init) });
export const directResponse = (status: number, body?: string): RouteActionInit => ({
  case: 'directResponse',
  value: create(DirectResponseActionSchema, { status, ...(body !== undefined ? { body: { specifier: { case: 'inlineString', value: body } } } : {}) }),
});

export function cluster(name: string): Cluster {
  return create(ClusterSchema, { name });
}

/** ProxyResources from parts; clusters given by name get a bare Cluster each. */
export function resources(parts: { listeners?: readonly Listener[]; routes?: readonly RouteConfiguration[]; clusters?: readonly (string | Cluster)[] }): ProxyResources {
  return {
    listeners: parts.listeners ?? [],
    routes: parts.routes ?? [],
    clusters: (parts.clusters ?? []).map((c) => (typeof c === 'string' ? cluster(c) : c)),
    endpoints: [],
    secrets: [],
    issues: [],
  };
}

/** A STATIC cluster `name` with the single endpoint 127.0.0.1:`port`; `extra` adds Cluster fields (JSON). */
export function staticCluster(name: string, port: number, extra: JsonObject = {}): Cluster {
  const json = {
    name,
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }] },
    ...extra,
  };
  return fromJson(ClusterSchema, json, { registry: XDS_REGISTRY });
}

/** A proxy's cluster manager holding `clusters`, compiled as the proxy compiles CDS. */
export function clusterManagerOf(clusters: readonly Cluster[], stats?: StatsScope): ClusterManager {
  const manager = new ClusterManager({ random: seededRandom(1), clock: systemClock, secrets: NO_SECRETS, ...(stats !== undefined ? { stats } : {}) });
  const compiled = new Map<string, CompiledCluster>();
  for (const cluster of clusters) {
    const c = compileCluster(cluster);
    if (!c.ok) throw new Error(c.problems.join('; '));
    compiled.set(cluster.name, c.value);
  }
  manager.apply(compiled, new Map());
  return manager;
}

/**
 * A proxy's cluster manager holding one STATIC cluster `name` with the single endpoint 127.0.0.1:`port`,
 * compiled as the proxy compiles CDS (for tests that drive listeners and tcp_proxy directly).
 */
export function staticClusterManager(name: string, port: number, stats?: StatsScope): ClusterManager {
  return clusterManagerOf([staticCluster(name, port)], stats);
}

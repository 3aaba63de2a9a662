// Decoding and validating xDS resources as the proxy receives them. Each check is one the proxy relies on
// later (Envoy enforces the same ones through protoc-gen-validate rules or in its config factories):
// a problem is `<resource name>: <field path>: <reason>`, and every problem of a response is listed, so
// one NACK tells the operator everything that is wrong (Envoy: "Error adding/updating listener(s) ...").

import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { HttpConnectionManagerSchema, type HttpConnectionManager } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { SecretSchema, type Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { Address } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import type { ConfigSource } from '../../xds/gen/envoy/config/core/v3/config_source_pb.js';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { pgvProblems } from '../../xds/pgv.js';
import { durationMs } from '../runtime/duration.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import { secretProblems } from './validate-secret.js';

/** The types the proxy subscribes to, in Envoy's initial order (CDS, EDS, LDS, RDS, then SDS over ADS). */
export type ProxyTypeUrl = typeof CLUSTER_TYPE | typeof ENDPOINT_TYPE | typeof LISTENER_TYPE | typeof ROUTE_TYPE | typeof SECRET_TYPE;
export const PROXY_TYPES: readonly ProxyTypeUrl[] = [CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE];

export interface ResourceByType {
  [CLUSTER_TYPE]: Cluster;
  [ENDPOINT_TYPE]: ClusterLoadAssignment;
  [LISTENER_TYPE]: Listener;
  [ROUTE_TYPE]: RouteConfiguration;
  [SECRET_TYPE]: Secret;
}

export const SCHEMAS: { readonly [T in ProxyTypeUrl]: DescMessage } = {
  [CLUSTER_TYPE]: ClusterSchema,
  [ENDPOINT_TYPE]: ClusterLoadAssignmentSchema,
  [LISTENER_TYPE]: ListenerSchema,
  [ROUTE_TYPE]: RouteConfigurationSchema,
  [SECRET_TYPE]: SecretSchema,
};

export const HCM_NAME = 'envoy.filters.network.http_connection_manager';

/** The resource's name (a ClusterLoadAssignment is named by cluster_name). */
export function resourceName<T extends ProxyTypeUrl>(type: T, m: ResourceByType[T]): string {
  return type === ENDPOINT_TYPE ? (m as ClusterLoadAssignment).clusterName : (m as Cluster | Listener | RouteConfiguration | Secret).name;
}

function socketAddressProblems(a: Address | undefined, path: string, out: string[]): void {
  if (a === undefined || a.address.case === undefined) {
    out.push(`${path}: must be set`);
    return;
  }
  // An internal listener's address (Envoy's internal_upstream transport, ambient's HBONE): this proxy has no
  // internal listeners, so such an endpoint could never be reached.
  if (a.address.case === 'envoyInternalAddress') out.push(`${path}.envoy_internal_address: internal listeners are not supported`);
  if (a.address.case !== 'socketAddress') return; // pipes are checked where used
  const s = a.address.value;
  if (s.address === '') out.push(`${path}.socket_address.address: must not be empty`);
  if (s.portSpecifier.case === 'portValue' && s.portSpecifier.value > 65535) out.push(`${path}.socket_address.port_value: ${s.portSpecifier.value} is not a port (0-65535)`);
  // Envoy's IP resolver takes only port_value (IpResolver::resolve: "IP resolver can't handle port specifier type").
  if (s.portSpecifier.case === 'namedPort') out.push(`${path}.socket_address.named_port: IP resolver can't handle port specifier type named_port`);
}

function clusterProblems(c: Cluster): string[] {
  const out: string[] = [];
  if (c.name === '') out.push('name: must not be empty');
  const t = c.clusterDiscoveryType;
  if (t.case === 'type' && (t.value === Cluster_DiscoveryType.STATIC || t.value === Cluster_DiscoveryType.STRICT_DNS || t.value === Cluster_DiscoveryType.LOGICAL_DNS)) {
    c.loadAssignment?.endpoints.forEach((l, i) =>
      l.lbEndpoints.forEach((e, j) => {
        if (e.hostIdentifier.case === 'endpoint') socketAddressProblems(e.hostIdentifier.value.address, `load_assignment.endpoints[${i}].lb_endpoints[${j}].endpoint.address`, out);
      }),
    );
  }
  if (t.case === 'type' && t.value === Cluster_DiscoveryType.EDS && c.edsClusterConfig === undefined) out.push('eds_cluster_config: must be set for an EDS cluster');
  return out;
}

function endpointProblems(cla: ClusterLoadAssignment): string[] {
  const out: string[] = [];
  if (cla.clusterName === '') out.push('cluster_name: must not be empty');
  cla.endpoints.forEach((l, i) =>
    l.lbEndpoints.forEach((e, j) => {
      const path = `endpoints[${i}].lb_endpoints[${j}]`;
      if (e.hostIdentifier.case === 'endpoint') socketAddressProblems(e.hostIdentifier.value.address, `${path}.endpoint.address`, out);
      else if (e.hostIdentifier.case === undefined) out.push(`${path}.endpoint: must be set`);
      if (e.loadBalancingWeight !== undefined && e.loadBalancingWeight < 1) out.push(`${path}.load_balancing_weight: must be at least 1`);
    }),
  );
  return out;
}

/** The HCM of a network filter, or undefined when the filter is not an HCM (or its config does not decode). */
export function hcmOf(typedConfig: Any | undefined): HttpConnectionManager | undefined {
  if (typedConfig === undefined || !typedConfig.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) return undefined;
  try {
    return anyUnpack(typedConfig, HttpConnectionManagerSchema);
  } catch {
    return undefined;
  }
}

function hcmProblems(typedConfig: Any | undefined, path: string, out: string[]): void {
  if (typedConfig === undefined || !typedConfig.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) return;
  const hcm = hcmOf(typedConfig);
  if (hcm === undefined) {
    out.push(`${path}.typed_config: cannot decode ${HttpConnectionManagerSchema.typeName}`);
    return;
  }
  const r = hcm.routeSpecifier;
  if (r.case === undefined) out.push(`${path}.typed_config.route_specifier: one of rds, route_config or scoped_routes must be set`);
  else if (r.case === 'rds' && r.value.routeConfigName === '') out.push(`${path}.typed_config.rds.route_config_name: must not be empty`);
  else if (r.case === 'routeConfig') for (const p of routeProblems(r.value)) out.push(`${path}.typed_config.route_config.${p}`);
}

function listenerProblems(l: Listener): string[] {
  const out: string[] = [];
  if (l.name === '') out.push('name: must not be empty');
  if (l.apiListener === undefined) socketAddressProblems(l.address, 'address', out);
  if (l.apiListener === undefined && l.filterChains.length === 0 && l.defaultFilterChain === undefined) out.push('filter_chains: a listener needs at least one filter chain or a default_filter_chain');
  const chains = [...l.filterChains.map((fc, i) => ({ fc, path: `filter_chains[${i}]` })), ...(l.defaultFilterChain !== undefined ? [{ fc: l.defaultFilterChain, path: 'default_filter_chain' }] : [])];
  for (const { fc, path } of chains) {
    fc.filters.forEach((f, j) => {
      const fp = `${path}.filters[${j}]`;
      if (f.name === '') out.push(`${fp}.name: must not be empty`);
      if (f.configType.case === 'typedConfig') hcmProblems(f.configType.value, `${fp}(${f.name})`, out);
    });
  }
  if (l.apiListener !== undefined) hcmProblems(l.apiListener.apiListener, 'api_listener.api_listener', out);
  return out;
}

function routeProblems(rc: RouteConfiguration): string[] {
  const out: string[] = [];
  rc.virtualHosts.forEach((vh, i) => {
    const vp = `virtual_hosts[${i}](${vh.name})`;
    if (vh.name === '') out.push(`virtual_hosts[${i}].name: must not be empty`);
    if (vh.domains.length === 0) out.push(`${vp}.domains: must list at least one domain`);
    vh.domains.forEach((d, k) => {
      if (d === '') out.push(`${vp}.domains[${k}]: must not be empty`);
    });
    vh.routes.forEach((r, j) => {
      const rp = `${vp}.routes[${j}]`;
      if (r.match === undefined || r.match.pathSpecifier.case === undefined) out.push(`${rp}.match: a path specifier (prefix, path, safe_regex, ...) must be set`);
      if (r.action.case === undefined) out.push(`${rp}: one of route, redirect, direct_response must be set`);
      if (r.action.case !== 'route') return;
      const cs = r.action.value.clusterSpecifier;
      if (cs.case === undefined) out.push(`${rp}.route.cluster_specifier: must be set`);
      else if (cs.case === 'cluster' && cs.value === '') out.push(`${rp}.route.cluster: must not be empty`);
      else if (cs.case === 'weightedClusters') {
        const w = cs.value;
        if (w.clusters.length === 0) out.push(`${rp}.route.weighted_clusters.clusters: must list at least one cluster`);
        w.clusters.forEach((c, k) => {
          if (c.name === '' && c.clusterHeader === '') out.push(`${rp}.route.weighted_clusters.clusters[${k}].name: must not be empty`);
        });
        const sum = w.clusters.reduce((s, c) => s + (c.weight ?? 0), 0);
        if (w.clusters.length > 0 && sum === 0) out.push(`${rp}.route.weighted_clusters: sum of weights is 0`);
        if (w.totalWeight !== undefined && w.totalWeight !== 0 && sum !== w.totalWeight) out.push(`${rp}.route.weighted_clusters.total_weight: ${w.totalWeight} differs from the sum of weights ${sum}`);
      }
    });
  });
  return out;
}

type Decoded<T extends ProxyTypeUrl> = { ok: true; name: string; message: ResourceByType[T]; compiled: unknown } | { ok: false; problems: string[] };
type Unpacked<T extends ProxyTypeUrl> = { ok: true; name: string; message: ResourceByType[T] } | { ok: false; problems: string[] };

/** Compiles a valid resource into the runtime's form; problems make the update a NACK like validation's. */
export type ResourceCompiler = (type: ProxyTypeUrl, message: ResourceByType[ProxyTypeUrl]) => { ok: true; value: unknown } | { ok: false; problems: readonly string[] };

/** Additional checks of a build (features it refuses); problems are `<field>: <reason>`. */
export type ExtraChecks = (type: ProxyTypeUrl, message: ResourceByType[ProxyTypeUrl]) => string[];

/** Unpacks the Any at `index` of a response of `type` (no checks yet): its message and name. */
export function unpackResource<T extends ProxyTypeUrl>(type: T, any: Any, index: number): Unpacked<T> {
  const label = `resource index ${index}`;
  if (any.typeUrl !== type) return { ok: false, problems: [`${label}: type_url ${any.typeUrl} in a response of ${type}`] };
  let m: MessageShape<DescMessage> | undefined;
  try {
    m = anyUnpack(any, SCHEMAS[type]);
  } catch (e) {
    return { ok: false, problems: [`${label}: cannot decode: ${e instanceof Error ? e.message : String(e)}`] };
  }
  if (m === undefined) return { ok: false, problems: [`${label}: cannot decode`] };
  const message = m as unknown as ResourceByType[T];
  return { ok: true, name: resourceName(type, message), message };
}

function ownProblems(type: ProxyTypeUrl, message: ResourceByType[ProxyTypeUrl]): string[] {
  switch (type) {
    case CLUSTER_TYPE:
      return clusterProblems(message as Cluster);
    case ENDPOINT_TYPE:
      return endpointProblems(message as ClusterLoadAssignment);
    case LISTENER_TYPE:
      return listenerProblems(message as Listener);
    case ROUTE_TYPE:
      return routeProblems(message as RouteConfiguration);
    case SECRET_TYPE:
      return secretProblems(message as Secret);
  }
}

/** The field path of a problem (`<path>: <reason>`), without the names the proxy's own checks add in parentheses. */
const problemPath = (p: string): string => p.slice(0, p.indexOf(': ') === -1 ? p.length : p.indexOf(': ')).replace(/\([^)]*\)/g, '');

/**
 * Envoy's protoc-gen-validate constraints first (src/xds/pgv.ts: what Envoy refuses before anything else,
 * with PGV's reasons), then the proxy's own checks, less those at a place PGV already reported.
 */
function resourceProblems(type: ProxyTypeUrl, message: ResourceByType[ProxyTypeUrl]): string[] {
  const pgv = pgvProblems(SCHEMAS[type], message, { registry: XDS_REGISTRY });
  const own = ownProblems(type, message);
  if (pgv.length === 0) return own;
  const reported = new Set(pgv.map(problemPath));
  return [...pgv, ...own.filter((p) => !reported.has(problemPath(p)))];
}

/**
 * Validates (then compiles) an unpacked resource. Problems are prefixed with the resource's name (or
 * `resource index N` when it has none, as gRPC clients say).
 */
export function checkResource<T extends ProxyTypeUrl>(type: T, message: ResourceByType[T], name: string, index: number, extraChecks?: ExtraChecks, compile?: ResourceCompiler): Decoded<T> {
  const problems = [...resourceProblems(type, message), ...(extraChecks?.(type, message) ?? [])];
  let compiled: unknown;
  if (problems.length === 0 && compile !== undefined) {
    const c = compile(type, message);
    if (c.ok) compiled = c.value;
    else problems.push(...c.problems);
  }
  if (problems.length > 0) return { ok: false, problems: problems.map((p) => `${name === '' ? `resource index ${index}` : name}: ${p}`) };
  return { ok: true, name, message, compiled };
}

/** Decodes and validates the resource at `index` of a response of `type` (unpackResource, then checkResource). */
export function decodeResource<T extends ProxyTypeUrl>(type: T, any: Any, index: number, extraChecks?: ExtraChecks, compile?: ResourceCompiler): Decoded<T> {
  const u = unpackResource(type, any, index);
  return u.ok ? checkResource(type, u.message, u.name, index, extraChecks, compile) : u;
}

/** The EDS name and eds_config of every EDS cluster. */
function* edsRefs(clusters: Iterable<Cluster>): Generator<{ name: string; source: ConfigSource | undefined; stat: string }> {
  for (const c of clusters) {
    if (c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS) yield { name: c.edsClusterConfig?.serviceName || c.name, source: c.edsClusterConfig?.edsConfig, stat: c.altStatName || c.name };
  }
}

/** The route name, config_source and stat_prefix of every HTTP connection manager that takes its routes from RDS. */
function* rdsRefs(listeners: Iterable<Listener>): Generator<{ name: string; source: ConfigSource | undefined; stat: string }> {
  for (const l of listeners) {
    const configs: (Any | undefined)[] = [l.apiListener?.apiListener];
    for (const fc of [...l.filterChains, ...(l.defaultFilterChain !== undefined ? [l.defaultFilterChain] : [])]) {
      for (const f of fc.filters) if (f.configType.case === 'typedConfig') configs.push(f.configType.value);
    }
    for (const a of configs) {
      const h = hcmOf(a);
      if (h?.routeSpecifier.case === 'rds') yield { name: h.routeSpecifier.value.routeConfigName, source: h.routeSpecifier.value.configSource, stat: h.statPrefix };
    }
  }
}

const sortedNames = (refs: Iterable<{ name: string }>): string[] => [...new Set([...refs].map((r) => r.name))].sort();

/** EDS service names the clusters need (eds_cluster_config.service_name, else the cluster name). */
export function edsNamesOf(clusters: Iterable<Cluster>): string[] {
  return sortedNames(edsRefs(clusters));
}

/** RDS route names the listeners' HTTP connection managers need. */
export function rdsNamesOf(listeners: Iterable<Listener>): string[] {
  return sortedNames(rdsRefs(listeners));
}

/**
 * Where each EDS name's subscription stats go, as in Envoy, whose EDS subscription counts in its cluster's
 * scope: `cluster.<alt_stat_name or name>` of every cluster taking its endpoints from that name.
 */
export function edsStatScopes(clusters: Iterable<Cluster>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of edsRefs(clusters)) {
    const scope = `cluster.${r.stat}`;
    const had = out.get(r.name);
    if (had === undefined) out.set(r.name, [scope]);
    else if (!had.includes(scope)) had.push(scope);
  }
  return out;
}

/**
 * Where each RDS name's subscription stats go: `http.<stat_prefix>.rds.<route_config_name>` of the first
 * connection manager naming it. Envoy shares one subscription among the connection managers that name the
 * same route configuration, with the stats scope of the one that created it.
 */
export function rdsStatScopes(listeners: Iterable<Listener>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rdsRefs(listeners)) if (!out.has(r.name)) out.set(r.name, [`http.${r.stat}.rds.${r.name.replace(/:/g, '_')}`]); // rds docs: ":" becomes "_"
  return out;
}

/**
 * Per name, how long its first answer may hold initialization and warming: the initial_fetch_timeout of the
 * config source that names it (`defaultMs` when unset; 0 waits forever, as Istio sets it on EDS and RDS, and on the node agent's SDS).
 * Named by several sources, the longest wait wins, and 0 over any.
 */
export function fetchTimeouts(refs: Iterable<{ name: string; source: ConfigSource | undefined }>, defaultMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of refs) {
    const ms = durationMs(r.source?.initialFetchTimeout, defaultMs);
    const had = out.get(r.name);
    out.set(r.name, had === undefined ? ms : had === 0 || ms === 0 ? 0 : Math.max(had, ms));
  }
  return out;
}

/** Initial fetch timeouts of the clusters' EDS names, from their eds_config. */
export function edsFetchTimeouts(clusters: Iterable<Cluster>, defaultMs: number): Map<string, number> {
  return fetchTimeouts(edsRefs(clusters), defaultMs);
}

/** Initial fetch timeouts of the listeners' RDS names, from their connection managers' rds config_source. */
export function rdsFetchTimeouts(listeners: Iterable<Listener>, defaultMs: number): Map<string, number> {
  return fetchTimeouts(rdsRefs(listeners), defaultMs);
}

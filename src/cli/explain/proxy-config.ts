// A proxy's live config as `explain` reads it: Envoy's admin /config_dump (ClustersConfigDump,
// ListenersConfigDump, RoutesConfigDump, EndpointsConfigDump with `@type`d Anys; static and dynamic
// entries) decoded into the generated protobuf types, and the per-host health flags of admin /clusters,
// in Envoy's JSON form (`?format=json`: cluster_statuses[].host_statuses[]) or its text form
// (`cluster::host::health_flags::/failed_outlier_check`). Decoding never throws: a resource that cannot
// be decoded is left out and named in `problems`.

import { fromJson, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { XDS_REGISTRY } from '../../xds/codec.js';
import { ClusterSchema, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { spiffeIdOf } from './spiffe-id.js';

export interface ProxyConfig {
  readonly listeners: ReadonlyMap<string, Listener>;
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** ClusterLoadAssignments by cluster_name (the EDS service name). */
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
  /** Live health flags by cluster, then host `ip:port` (`healthy`, `/failed_outlier_check` ...); undefined when /clusters was not read. */
  readonly hostFlags: ReadonlyMap<string, ReadonlyMap<string, string>> | undefined;
  /**
   * Live breaker state by cluster stat name (alt_stat_name, else the name), from admin /stats: `cx_open`,
   * `rq_pending_open`, `rq_open`, `rq_retry_open`, `upstream_rq_active`, `upstream_rq_pending_active`.
   */
  readonly breakers?: ReadonlyMap<string, ReadonlyMap<string, number>> | undefined;
  readonly problems: readonly string[];
  /** The SPIFFE id of the proxy's workload certificate (SDS `default`), when it has one. */
  readonly identity?: string | undefined;
}

type Json = { readonly [k: string]: unknown };

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A field by its proto JSON name or its original (snake_case) name. */
function field(o: Json, camel: string, snake: string): unknown {
  return o[camel] ?? o[snake];
}

function decode<D extends DescMessage>(schema: D, v: unknown, what: string, problems: string[]): MessageShape<D> | undefined {
  if (!isObject(v)) return undefined;
  const { ['@type']: _type, ...rest } = v;
  try {
    return fromJson(schema, rest as JsonValue, { registry: XDS_REGISTRY, ignoreUnknownFields: true });
  } catch (e) {
    const name = typeof v['name'] === 'string' ? v['name'] : typeof v['cluster_name'] === 'string' ? v['cluster_name'] : typeof v['clusterName'] === 'string' ? v['clusterName'] : '?';
    problems.push(`${what} ${name}: cannot decode: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/** Decodes an admin /config_dump body (already JSON-parsed). */
export function parseConfigDump(dump: unknown, problems: string[] = []): Omit<ProxyConfig, 'hostFlags'> {
  const listeners = new Map<string, Listener>();
  const routes = new Map<string, RouteConfiguration>();
  const clusters = new Map<string, Cluster>();
  const endpoints = new Map<string, ClusterLoadAssignment>();
  let identity: string | undefined;
  const configs = isObject(dump) ? list(dump['configs']) : [];
  if (configs.length === 0) problems.push('the config dump has no configs');
  for (const c of configs) {
    if (!isObject(c)) continue;
    const type = String(c['@type'] ?? '');
    if (type.endsWith('ClustersConfigDump')) {
      for (const e of [...list(field(c, 'staticClusters', 'static_clusters')), ...list(field(c, 'dynamicActiveClusters', 'dynamic_active_clusters'))]) {
        const m = isObject(e) ? decode(ClusterSchema, e['cluster'], 'cluster', problems) : undefined;
        if (m !== undefined) clusters.set(m.name, m);
      }
    } else if (type.endsWith('ListenersConfigDump')) {
      for (const e of list(field(c, 'staticListeners', 'static_listeners'))) {
        const m = isObject(e) ? decode(ListenerSchema, e['listener'], 'listener', problems) : undefined;
        if (m !== undefined) listeners.set(m.name, m);
      }
      for (const e of list(field(c, 'dynamicListeners', 'dynamic_listeners'))) {
        const active = isObject(e) ? field(e, 'activeState', 'active_state') : undefined;
        const m = isObject(active) ? decode(ListenerSchema, active['listener'], 'listener', problems) : undefined;
        if (m !== undefined) listeners.set(m.name, m);
      }
    } else if (type.endsWith('RoutesConfigDump')) {
      for (const e of [...list(field(c, 'staticRouteConfigs', 'static_route_configs')), ...list(field(c, 'dynamicRouteConfigs', 'dynamic_route_configs'))]) {
        const m = isObject(e) ? decode(RouteConfigurationSchema, field(e, 'routeConfig', 'route_config'), 'route configuration', problems) : undefined;
        if (m !== undefined) routes.set(m.name, m);
      }
    } else if (type.endsWith('SecretsConfigDump')) {
      for (const e of list(field(c, 'dynamicActiveSecrets', 'dynamic_active_secrets'))) {
        if (!isObject(e) || e['name'] !== 'default') continue;
        const secret = isObject(e['secret']) ? e['secret'] : {};
        const tc = field(secret, 'tlsCertificate', 'tls_certificate');
        const chain = isObject(tc) ? field(tc, 'certificateChain', 'certificate_chain') : undefined;
        const bytes = isObject(chain) ? field(chain, 'inlineBytes', 'inline_bytes') : undefined;
        const text = isObject(chain) ? field(chain, 'inlineString', 'inline_string') : undefined;
        const pem = typeof bytes === 'string' ? Buffer.from(bytes, 'base64').toString('utf8') : typeof text === 'string' ? text : '';
        identity = spiffeIdOf(pem);
      }
    } else if (type.endsWith('EndpointsConfigDump')) {
      for (const e of [...list(field(c, 'staticEndpointConfigs', 'static_endpoint_configs')), ...list(field(c, 'dynamicEndpointConfigs', 'dynamic_endpoint_configs'))]) {
        const m = isObject(e) ? decode(ClusterLoadAssignmentSchema, field(e, 'endpointConfig', 'endpoint_config'), 'endpoints', problems) : undefined;
        if (m !== undefined) endpoints.set(m.clusterName, m);
      }
    }
  }
  return { listeners, routes, clusters, endpoints, problems, ...(identity !== undefined ? { identity } : {}) };
}

function socketAddress(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  const sa = field(v, 'socketAddress', 'socket_address');
  if (!isObject(sa)) return undefined;
  const address = String(sa['address'] ?? '');
  const port = field(sa, 'portValue', 'port_value');
  return `${address.includes(':') ? `[${address}]` : address}:${String(port ?? 0)}`;
}

/** Envoy's HostUtility::healthFlagsToString for the JSON /clusters health_status. */
function flagsOfJson(h: Json): string {
  const s = isObject(h['health_status']) ? h['health_status'] : isObject(h['healthStatus']) ? h['healthStatus'] : {};
  const on = (camel: string, snake: string): boolean => field(s, camel, snake) === true;
  const eds = String(field(s, 'edsHealthStatus', 'eds_health_status') ?? 'HEALTHY');
  let out = '';
  if (on('failedActiveHealthCheck', 'failed_active_health_check')) out += '/failed_active_hc';
  if (on('failedOutlierCheck', 'failed_outlier_check')) out += '/failed_outlier_check';
  if (eds === 'UNHEALTHY' || eds === 'DRAINING' || eds === 'TIMEOUT') out += '/failed_eds_health';
  if (on('failedActiveDegradedCheck', 'failed_active_degraded_check')) out += '/degraded_active_hc';
  if (eds === 'DEGRADED') out += '/degraded_eds_health';
  if (on('pendingDynamicRemoval', 'pending_dynamic_removal')) out += '/pending_dynamic_removal';
  if (on('pendingActiveHc', 'pending_active_hc')) out += '/pending_active_hc';
  if (on('excludedViaImmediateHcFail', 'excluded_via_immediate_hc_fail')) out += '/excluded_via_immediate_hc_fail';
  if (on('activeHcTimeout', 'active_hc_timeout')) out += '/active_hc_timeout';
  return out === '' ? 'healthy' : out;
}

/** Health flags per cluster and host from an admin /clusters body, JSON or text. */
export function parseClusterStatus(body: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const hostsOf = (cluster: string): Map<string, string> => {
    let m = out.get(cluster);
    if (m === undefined) {
      m = new Map();
      out.set(cluster, m);
    }
    return m;
  };
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed) as unknown;
    } catch {
      return out;
    }
    for (const c of isObject(json) ? list(field(json, 'clusterStatuses', 'cluster_statuses')) : []) {
      if (!isObject(c) || typeof c['name'] !== 'string') continue;
      const hosts = hostsOf(c['name']);
      for (const h of list(field(c, 'hostStatuses', 'host_statuses'))) {
        if (!isObject(h)) continue;
        const key = socketAddress(h['address']);
        if (key !== undefined) hosts.set(key, flagsOfJson(h));
      }
    }
    return out;
  }
  for (const line of body.split('\n')) {
    const parts = line.split('::');
    if (parts.length === 3) hostsOf(parts[0] as string);
    if (parts.length !== 4) continue;
    const [cluster, host, key, value] = parts as [string, string, string, string];
    if (key === 'health_flags') hostsOf(cluster).set(host, value);
  }
  return out;
}

/** The /stats filter that reads every cluster's live breaker state. */
export const BREAKER_STATS_FILTER = '^cluster\\..+\\.(circuit_breakers\\.default\\.(cx_open|rq_pending_open|rq_open|rq_retry_open)|upstream_rq_active|upstream_rq_pending_active)$';

const BREAKER_STAT = /^cluster\.(.+)\.(?:circuit_breakers\.default\.(cx_open|rq_pending_open|rq_open|rq_retry_open)|(upstream_rq_active|upstream_rq_pending_active))$/;

/** Live breaker stats per cluster stat name from an admin `/stats?format=json` body. */
export function parseBreakerStats(body: string): Map<string, Map<string, number>> {
  const json = JSON.parse(body) as unknown;
  const out = new Map<string, Map<string, number>>();
  for (const s of list(isObject(json) ? json['stats'] : undefined)) {
    if (!isObject(s) || typeof s['name'] !== 'string') continue;
    const m = BREAKER_STAT.exec(s['name']);
    const cluster = m?.[1];
    const stat = m?.[2] ?? m?.[3];
    if (cluster === undefined || stat === undefined) continue;
    let c = out.get(cluster);
    if (c === undefined) out.set(cluster, (c = new Map()));
    c.set(stat, typeof s['value'] === 'number' ? s['value'] : 0);
  }
  return out;
}

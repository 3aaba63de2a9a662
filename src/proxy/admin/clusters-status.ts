// Envoy's admin /clusters (source/server/admin/clusters_handler.cc): per cluster its observability name,
// EDS service name, circuit-breaker thresholds of the DEFAULT and HIGH priorities and added_via_api, and
// per host its stats, hostname, health, weight, locality and priority. One model, two renderings: the
// text lines `<cluster>::<host>::<stat>::<value>` (the default) and `?format=json`, envoy.admin.v3.Clusters
// (envoy/admin/v3/clusters.proto) in protobuf JSON with proto field names as Envoy prints it: implicit
// defaults left out, so a false health flag or a zero stat value does not appear.
// Clusters are the bootstrap's static ones (added_via_api false), then the CDS ones. A cluster's hosts are
// the live cluster's when the source has one (with live health flags and rq_active; hosts EDS removed that
// still pass health checks included), else its endpoints in the xDS tables with their EDS health (a
// multi-worker primary, whose workers hold the live state). Per host: rq_active and the request counters
// rq_error, rq_success, rq_timeout and rq_total (Envoy's connection counters, cx_*, are not kept).

import { create, toJson, type JsonValue } from '@bufbuild/protobuf';
import { AddressSchema, type Address } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import { RoutingPriority } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ClustersSchema, HostHealthStatusSchema, type HostHealthStatus } from '../../xds/gen/envoy/admin/v3/clusters_pb.js';
import { SimpleMetric_Type } from '../../xds/gen/envoy/admin/v3/metrics_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds/type-urls.js';
import { breakerLimits, type BreakerLimits } from '../upstream/circuit-breakers.js';
import { formatAddress } from './address-text.js';
import type { DumpSource, LiveCluster } from './dump-source.js';
import type { Host } from '../upstream/host.js';

interface HostRow {
  readonly address: Address;
  /** Address::asString(): the host's name in text lines. */
  readonly text: string;
  readonly hostname: string;
  readonly weight: number;
  readonly priority: number;
  readonly locality: { readonly region: string; readonly zone: string; readonly subZone: string };
  readonly eds: HealthStatus;
  /** Live health_flags text; undefined: from the EDS health. */
  readonly flags: string | undefined;
  readonly stats: readonly { readonly name: string; readonly value: number; readonly type: SimpleMetric_Type }[];
}

interface ClusterRow {
  readonly name: string;
  readonly observabilityName: string;
  readonly edsServiceName: string;
  readonly addedViaApi: boolean;
  readonly limits: readonly (readonly [RoutingPriority, BreakerLimits])[];
  readonly hosts: readonly HostRow[];
}

function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, { address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } } });
}

/**
 * Envoy's per-host stats in its order (by name): the connection stats (cx_active a gauge), then rq_active (a
 * gauge) and the request counters.
 */
function hostStats(live: LiveCluster, key: string): HostRow['stats'] {
  const active = { name: 'rq_active', value: live.activeRequests(key), type: SimpleMetric_Type.GAUGE };
  const c = live.hostCounters?.(key);
  if (c === undefined) return [active];
  const counter = (name: string, value: number): HostRow['stats'][number] => ({ name, value, type: SimpleMetric_Type.COUNTER });
  return [
    { name: 'cx_active', value: c.activeConnections, type: SimpleMetric_Type.GAUGE },
    counter('cx_connect_fail', c.cxConnectFail),
    counter('cx_total', c.cxTotal),
    active,
    counter('rq_error', c.rqError),
    counter('rq_success', c.rqSuccess),
    counter('rq_timeout', c.rqTimeout),
    counter('rq_total', c.rqTotal),
  ];
}

function hostRow(h: Host, flags: string | undefined, stats: HostRow['stats']): HostRow {
  return {
    address: socketAddress(h.address, h.port),
    text: h.key,
    hostname: h.hostname,
    weight: h.weight,
    priority: h.priority,
    locality: h.locality,
    eds: HealthStatus[h.health],
    flags,
    stats,
  };
}

function liveHosts(live: LiveCluster): HostRow[] {
  return live.hosts.hosts.map((h) => hostRow(h, live.healthFlags(h.key), hostStats(live, h.key)));
}

function assignmentHosts(cla: ClusterLoadAssignment | undefined, flags: (host: string, eds: HealthStatus) => string | undefined): HostRow[] {
  const out: HostRow[] = [];
  for (const l of cla?.endpoints ?? []) {
    for (const e of l.lbEndpoints) {
      if (e.hostIdentifier.case !== 'endpoint') continue;
      const ep = e.hostIdentifier.value;
      const address = ep.address;
      if (address === undefined) continue;
      const text = formatAddress(address);
      out.push({
        address,
        text,
        hostname: ep.hostname,
        weight: e.loadBalancingWeight ?? 1,
        priority: l.priority,
        locality: { region: l.locality?.region ?? '', zone: l.locality?.zone ?? '', subZone: l.locality?.subZone ?? '' },
        eds: e.healthStatus,
        flags: flags(text, e.healthStatus),
        stats: [],
      });
    }
  }
  return out;
}

function row(c: Cluster, addedViaApi: boolean, hosts: HostRow[]): ClusterRow {
  const eds = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
  return {
    name: c.name,
    observabilityName: c.altStatName || c.name,
    edsServiceName: eds ? (c.edsClusterConfig?.serviceName ?? '') : '',
    addedViaApi,
    limits: [RoutingPriority.DEFAULT, RoutingPriority.HIGH].map((p) => [p, breakerLimits(c.circuitBreakers, p)] as const),
    hosts,
  };
}

function clusterRows(src: DumpSource): ClusterRow[] {
  const rows = (src.bootstrap?.config.staticResources?.clusters ?? []).map((c) => row(c, false, assignmentHosts(c.loadAssignment, () => undefined)));
  const endpoints = src.table(ENDPOINT_TYPE);
  // The clusters in use: a warming cluster is left out, as Envoy lists only its active clusters.
  for (const [name, { message: c }] of src.servingTable?.(CLUSTER_TYPE) ?? src.table(CLUSTER_TYPE)) {
    const live = src.liveCluster?.(name);
    if (live !== undefined) {
      rows.push(row(c, true, liveHosts(live)));
      continue;
    }
    const eds = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS;
    const cla = eds ? endpoints.get(c.edsClusterConfig?.serviceName || name)?.message : (src.dnsHosts?.(name) ?? c.loadAssignment);
    const hosts = assignmentHosts(cla, (host, eds) => src.hostHealthFlags?.(name, host, eds));
    for (const h of src.retainedHosts?.(name) ?? []) {
      if (!hosts.some((r) => r.text === h.key)) hosts.push(hostRow(h, src.hostHealthFlags?.(name, h.key, HealthStatus[h.health]), []));
    }
    rows.push(row(c, true, hosts));
  }
  return rows;
}

/** The EDS status Envoy's JSON reports (ClustersHandler setHealthFlag; EDS TIMEOUT is a failed EDS health). */
function edsStatus(h: HealthStatus): HealthStatus {
  switch (h) {
    case HealthStatus.UNHEALTHY:
    case HealthStatus.TIMEOUT:
      return HealthStatus.UNHEALTHY;
    case HealthStatus.DRAINING:
    case HealthStatus.DEGRADED:
      return h;
    default:
      return HealthStatus.HEALTHY;
  }
}

/** health_flags from the EDS health alone (HostUtility::healthFlagsToString), as the data plane reports them. */
function edsFlags(h: HealthStatus): string {
  if (h === HealthStatus.UNHEALTHY || h === HealthStatus.DRAINING || h === HealthStatus.TIMEOUT) return '/failed_eds_health';
  return h === HealthStatus.DEGRADED ? '/degraded_eds_health' : 'healthy';
}

type HealthFlagField = 'failedActiveHealthCheck' | 'failedOutlierCheck' | 'failedActiveDegradedCheck' | 'pendingDynamicRemoval' | 'pendingActiveHc' | 'excludedViaImmediateHcFail' | 'activeHcTimeout';

/** health_flags names -> HostHealthStatus fields; the EDS flags come from the EDS status instead. */
const FLAG_FIELDS: ReadonlyMap<string, HealthFlagField> = new Map([
  ['failed_active_hc', 'failedActiveHealthCheck'],
  ['failed_outlier_check', 'failedOutlierCheck'],
  ['degraded_active_hc', 'failedActiveDegradedCheck'],
  ['pending_dynamic_removal', 'pendingDynamicRemoval'],
  ['pending_active_hc', 'pendingActiveHc'],
  ['excluded_via_immediate_hc_fail', 'excludedViaImmediateHcFail'],
  ['active_hc_timeout', 'activeHcTimeout'],
]);

function healthStatus(h: HostRow): HostHealthStatus {
  const s = create(HostHealthStatusSchema, { edsHealthStatus: edsStatus(h.eds) });
  for (const name of (h.flags ?? '').split('/')) {
    const f = FLAG_FIELDS.get(name);
    if (f !== undefined) s[f] = true;
  }
  return s;
}

/** `/clusters?format=json`: envoy.admin.v3.Clusters. */
export function clustersJson(src: DumpSource): JsonValue {
  const clusters = create(ClustersSchema, {
    clusterStatuses: clusterRows(src).map((c) => ({
      name: c.name,
      observabilityName: c.observabilityName,
      edsServiceName: c.edsServiceName,
      addedViaApi: c.addedViaApi,
      circuitBreakers: {
        thresholds: c.limits.map(([priority, l]) => ({ priority, maxConnections: l.connections, maxPendingRequests: l.pending, maxRequests: l.requests, maxRetries: l.retries })),
      },
      hostStatuses: c.hosts.map((h) => ({
        address: h.address,
        stats: h.stats.map((s) => ({ name: s.name, value: BigInt(s.value), type: s.type })),
        healthStatus: healthStatus(h),
        weight: h.weight,
        hostname: h.hostname,
        priority: h.priority,
        locality: h.locality,
      })),
    })),
  });
  return toJson(ClustersSchema, clusters, { useProtoFieldName: true });
}

const PRIORITY_TEXT: Readonly<Record<RoutingPriority, string>> = { [RoutingPriority.DEFAULT]: 'default', [RoutingPriority.HIGH]: 'high' };

/** Envoy's text /clusters. */
export function clustersText(src: DumpSource): string {
  const lines: string[] = [];
  for (const c of clusterRows(src)) {
    lines.push(`${c.name}::observability_name::${c.observabilityName}`);
    for (const [p, l] of c.limits) {
      const at = `${c.name}::${PRIORITY_TEXT[p]}_priority`;
      lines.push(`${at}::max_connections::${l.connections}`, `${at}::max_pending_requests::${l.pending}`, `${at}::max_requests::${l.requests}`, `${at}::max_retries::${l.retries}`);
    }
    lines.push(`${c.name}::added_via_api::${c.addedViaApi}`);
    if (c.edsServiceName !== '') lines.push(`${c.name}::eds_service_name::${c.edsServiceName}`);
    for (const h of c.hosts) {
      const host = `${c.name}::${h.text}`;
      for (const s of [...h.stats].sort((a, b) => (a.name < b.name ? -1 : 1))) lines.push(`${host}::${s.name}::${s.value}`);
      lines.push(
        `${host}::hostname::${h.hostname}`,
        `${host}::health_flags::${h.flags ?? edsFlags(h.eds)}`,
        `${host}::weight::${h.weight}`,
        `${host}::region::${h.locality.region}`,
        `${host}::zone::${h.locality.zone}`,
        `${host}::sub_zone::${h.locality.subZone}`,
        `${host}::canary::false`,
        `${host}::priority::${h.priority}`,
        `${host}::success_rate::-1`,
        `${host}::local_origin_success_rate::-1`,
      );
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}

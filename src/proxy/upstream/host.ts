// Upstream hosts and host sets: what a ClusterLoadAssignment compiles into. A Host is immutable (address,
// weight, locality, priority, the health EDS reported); everything that changes while traffic flows
// (active requests, outlier ejection) lives elsewhere: request counters in a HostCounters object from a
// HostCountersTable, ejection state in the cluster's OutlierDetector, both keyed by Host.key. So a new
// EDS update builds a new HostSet without touching live counters, and a load balancer never mutates hosts.
//
// Grouping follows Envoy's PriorityStateManager: one level per priority (0 highest; missing levels are
// present and empty), and inside a level the hosts per locality with the locality's load-balancing weight
// (0 when unset: with locality-weighted LB such a locality gets no traffic). Localities are ordered by
// (region, zone, sub_zone) as Envoy's LocalityLess map orders them; hosts keep their EDS order.
// Health classes follow envoy.config.core.v3.HealthStatus: UNKNOWN and HEALTHY take traffic, DEGRADED takes
// traffic only when healthy hosts are short, UNHEALTHY/DRAINING/TIMEOUT are unhealthy (EDS health failed).

import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Endpoint, LbEndpoint } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { Metadata } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';

export type HostHealth = 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'TIMEOUT' | 'DEGRADED' | 'UNKNOWN';

/** How a load balancer treats a host (before outlier ejection, which makes a host unhealthy). */
export type HealthClass = 'healthy' | 'degraded' | 'unhealthy';

export interface HostLocality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export interface Host {
  /** IP address (or DNS name for STRICT_DNS-style endpoints) without brackets. */
  readonly address: string;
  readonly port: number;
  /** `ip:port`, `[v6]:port` for IPv6, as Envoy's Address::asString(); also the ring-hash/Maglev hash key. */
  readonly key: string;
  /** Endpoint hostname (Endpoint.hostname), '' when unset; hashed instead of `key` with use_hostname_for_hashing. */
  readonly hostname: string;
  /** load_balancing_weight, 1 when unset. */
  readonly weight: number;
  readonly locality: HostLocality;
  readonly priority: number;
  readonly health: HostHealth;
  readonly metadata?: Metadata;
  /** A Unix domain socket (Address.pipe): `address` is its path, `port` 0 and `key` the path, as Envoy prints it. */
  readonly pipe?: true;
}

export interface LocalityHosts {
  readonly locality: HostLocality;
  /** LocalityLbEndpoints.load_balancing_weight, 0 when unset. */
  readonly weight: number;
  readonly hosts: readonly Host[];
}

export interface PriorityLevel {
  readonly priority: number;
  readonly hosts: readonly Host[];
  readonly localities: readonly LocalityHosts[];
}

export interface HostSet {
  readonly clusterName: string;
  /** Indexed by priority, dense from 0 to the highest priority present. */
  readonly priorities: readonly PriorityLevel[];
  /** Every host, priority 0 first. */
  readonly hosts: readonly Host[];
  /** Percent; 140 unless the assignment's policy says otherwise. */
  readonly overprovisioningFactor: number;
  readonly weightedPriorityHealth: boolean;
  /** Endpoints we could not use and why; the hosts that could be used are still in the set. */
  readonly problems: readonly string[];
}

export const DEFAULT_OVERPROVISIONING_FACTOR = 140;

export function healthClass(health: HostHealth): HealthClass {
  switch (health) {
    case 'HEALTHY':
    case 'UNKNOWN':
      return 'healthy';
    case 'DEGRADED':
      return 'degraded';
    case 'UNHEALTHY':
    case 'DRAINING':
    case 'TIMEOUT':
      return 'unhealthy';
  }
}

export function healthFromProto(status: HealthStatus): HostHealth {
  switch (status) {
    case HealthStatus.HEALTHY:
      return 'HEALTHY';
    case HealthStatus.UNHEALTHY:
      return 'UNHEALTHY';
    case HealthStatus.DRAINING:
      return 'DRAINING';
    case HealthStatus.TIMEOUT:
      return 'TIMEOUT';
    case HealthStatus.DEGRADED:
      return 'DEGRADED';
    default:
      return 'UNKNOWN';
  }
}

/** `1.2.3.4:80`, `[::1]:80`: Envoy's Address::asString() for an IP socket address. */
export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

const NO_LOCALITY: HostLocality = Object.freeze({ region: '', zone: '', subZone: '' });

function compareLocality(a: HostLocality, b: HostLocality): number {
  if (a.region !== b.region) return a.region < b.region ? -1 : 1;
  if (a.zone !== b.zone) return a.zone < b.zone ? -1 : 1;
  if (a.subZone !== b.subZone) return a.subZone < b.subZone ? -1 : 1;
  return 0;
}

function localityId(l: HostLocality): string {
  return `${l.region}\u0000${l.zone}\u0000${l.subZone}`;
}

function endpointOf(cla: ClusterLoadAssignment, lbe: LbEndpoint): Endpoint | string {
  switch (lbe.hostIdentifier.case) {
    case 'endpoint':
      return lbe.hostIdentifier.value;
    case 'endpointName': {
      const named = cla.namedEndpoints[lbe.hostIdentifier.value];
      return named ?? `endpoint_name '${lbe.hostIdentifier.value}' is not in named_endpoints`;
    }
    default:
      return 'lb_endpoint has no endpoint';
  }
}

interface MutableLevel {
  hosts: Host[];
  localities: Map<string, { locality: HostLocality; weight: number; hosts: Host[] }>;
}

/** Compiles an EDS assignment (or a cluster's inline load_assignment) into an immutable HostSet. */
export function hostSetFromAssignment(cla: ClusterLoadAssignment): HostSet {
  const problems: string[] = [];
  const levels: MutableLevel[] = [];
  cla.endpoints.forEach((lle, li) => {
    const priority = lle.priority;
    const l = lle.locality;
    const locality: HostLocality = l ? Object.freeze({ region: l.region, zone: l.zone, subZone: l.subZone }) : NO_LOCALITY;
    while (levels.length <= priority) levels.push({ hosts: [], localities: new Map() });
    const level = levels[priority] as MutableLevel;
    const id = localityId(locality);
    let group = level.localities.get(id);
    if (group === undefined) {
      group = { locality, weight: lle.loadBalancingWeight ?? 0, hosts: [] };
      level.localities.set(id, group);
    } else {
      problems.push(`endpoints[${li}]: locality appears twice at priority ${priority}; merged`);
    }
    lle.lbEndpoints.forEach((lbe, ei) => {
      const path = `endpoints[${li}].lb_endpoints[${ei}]`;
      const ep = endpointOf(cla, lbe);
      if (typeof ep === 'string') {
        problems.push(`${path}: ${ep}`);
        return;
      }
      const addr = ep.address?.address;
      if (addr?.case === 'pipe') {
        let weight = lbe.loadBalancingWeight ?? 1;
        if (weight < 1) {
          problems.push(`${path}: load_balancing_weight must be at least 1; using 1`);
          weight = 1;
        }
        const host: Host = Object.freeze({
          address: addr.value.path,
          port: 0,
          key: addr.value.path,
          hostname: ep.hostname,
          weight,
          locality,
          priority,
          health: healthFromProto(lbe.healthStatus),
          pipe: true as const,
          ...(lbe.metadata !== undefined ? { metadata: lbe.metadata } : {}),
        });
        level.hosts.push(host);
        group.hosts.push(host);
        return;
      }
      if (addr?.case !== 'socketAddress') {
        problems.push(`${path}: only socket addresses and pipes are supported`);
        return;
      }
      const sa = addr.value;
      if (sa.portSpecifier.case !== 'portValue') {
        problems.push(`${path}: named ports are not supported`);
        return;
      }
      let weight = lbe.loadBalancingWeight ?? 1;
      if (weight < 1) {
        problems.push(`${path}: load_balancing_weight must be at least 1; using 1`);
        weight = 1;
      }
      const host: Host = Object.freeze({
        address: sa.address,
        port: sa.portSpecifier.value,
        key: hostKey(sa.address, sa.portSpecifier.value),
        hostname: ep.hostname,
        weight,
        locality,
        priority,
        health: healthFromProto(lbe.healthStatus),
        ...(lbe.metadata !== undefined ? { metadata: lbe.metadata } : {}),
      });
      level.hosts.push(host);
      group.hosts.push(host);
    });
  });

  const priorities: PriorityLevel[] = levels.map((level, priority) => {
    const localities = [...level.localities.values()]
      .sort((a, b) => compareLocality(a.locality, b.locality))
      .map((g) => Object.freeze({ locality: g.locality, weight: g.weight, hosts: Object.freeze(g.hosts) }));
    return Object.freeze({ priority, hosts: Object.freeze(level.hosts), localities: Object.freeze(localities) });
  });
  const policy = cla.policy;
  return Object.freeze({
    clusterName: cla.clusterName,
    priorities: Object.freeze(priorities),
    hosts: Object.freeze(priorities.flatMap((p) => p.hosts)),
    overprovisioningFactor: policy?.overprovisioningFactor ?? DEFAULT_OVERPROVISIONING_FACTOR,
    weightedPriorityHealth: policy?.weightedPriorityHealth ?? false,
    problems: Object.freeze(problems),
  });
}

/** Mutable per-host request counters, one object per host key, kept apart from the immutable Host. */
export interface HostCounters {
  activeRequests: number;
  pendingRequests: number;
  /** Connections open to the host (Envoy's per-host cx_active in /clusters). */
  activeConnections: number;
  /** Envoy's per-host counters in /clusters: requests sent, answered without error, with an error (5xx, reset, timeout), timed out. */
  rqTotal: number;
  rqSuccess: number;
  rqError: number;
  rqTimeout: number;
  /** Connections made to the host, and attempts that could not connect (cx_total, cx_connect_fail). */
  cxTotal: number;
  cxConnectFail: number;
}

/** Counters for the hosts of one cluster; survives host-set updates (counters follow the key). */
export class HostCountersTable {
  private readonly byKey = new Map<string, HostCounters>();

  /** The counters of `key`, created at zero on first use. */
  counters(key: string): HostCounters {
    let c = this.byKey.get(key);
    if (c === undefined) {
      c = { activeRequests: 0, pendingRequests: 0, activeConnections: 0, rqTotal: 0, rqSuccess: 0, rqError: 0, rqTimeout: 0, cxTotal: 0, cxConnectFail: 0 };
      this.byKey.set(key, c);
    }
    return c;
  }

  activeRequests(key: string): number {
    return this.byKey.get(key)?.activeRequests ?? 0;
  }

  /** The counters of `key` if it has any, for reading. */
  peek(key: string): Readonly<HostCounters> | undefined {
    return this.byKey.get(key);
  }

  /** Drops counters of hosts no longer present that have nothing in flight. */
  retain(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const [key, c] of this.byKey) {
      if (!keep.has(key) && c.activeRequests === 0 && c.pendingRequests === 0 && c.activeConnections === 0) {
        this.byKey.delete(key);
      }
    }
  }
}

/** Whether `after` adds or removes hosts of `before` (a change of health or weight is not one). */
export function membershipChanged(before: HostSet, after: HostSet): boolean {
  const was = new Set(before.hosts.map((h) => h.key));
  if (was.size !== after.hosts.length) return true;
  for (const h of after.hosts) if (!was.has(h.key)) return true;
  return false;
}

// A request may name the host it must go to (Envoy's upstream override host, set by the stateful session
// filter from a cookie or header): the cluster sends it there, before and instead of its load balancer,
// when the host is one of the cluster's and its health status is one the cluster accepts for overrides
// (CommonLbConfig.override_host_status). Otherwise the balancer picks as usual, unless the override is
// strict, and then the request gets no host (503, UH).
// Envoy: HostUtility::createOverrideHostStatus and selectOverrideHost (source/common/upstream/host_utility.cc),
// HostImpl::healthStatus (source/common/upstream/upstream_impl.h), ClusterEntry::chooseHost.

import type { Cluster_CommonLbConfig as CommonLbConfig } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import type { HostHealthFlags } from './health-checker-flags.js';
import { healthFromProto, type Host, type HostHealth, type HostSet } from './host.js';

/** The host a request asks for: its `address:port` as Envoy prints it (Host.key), and whether only it will do. */
export interface OverrideHost {
  readonly address: string;
  readonly strict: boolean;
}

/** Without override_host_status: UNKNOWN, HEALTHY and DEGRADED hosts may be chosen by an override. */
const DEFAULT_STATUSES: ReadonlySet<HostHealth> = new Set(['UNKNOWN', 'HEALTHY', 'DEGRADED']);

/** The health statuses an override may choose (an empty set given explicitly: overrides are ignored). */
export function overrideHostStatuses(common: CommonLbConfig | undefined): ReadonlySet<HostHealth> {
  const set = common?.overrideHostStatus;
  if (set === undefined) return DEFAULT_STATUSES;
  return new Set(set.statuses.map((s: HealthStatus) => healthFromProto(s)));
}

/**
 * A host's health status as Envoy's HostImpl::healthStatus() gives it: failing active health checks or
 * ejected by outlier detection is UNHEALTHY; then an EDS status of UNHEALTHY, DRAINING or TIMEOUT; then
 * DEGRADED by active checks; else the EDS status.
 */
export function hostHealthStatus(h: Host, active: HostHealthFlags | undefined, ejected: boolean): HostHealth {
  if (active?.failedActiveHc === true || ejected) return 'UNHEALTHY';
  if (h.health === 'UNHEALTHY' || h.health === 'DRAINING' || h.health === 'TIMEOUT') return h.health;
  if (active?.degradedActiveHc === true) return 'DEGRADED';
  return h.health;
}

/**
 * Chooses for overrides over one host set (built with the balancer, replaced with it). `select` answers the
 * host to use, `undefined` when the request must get none (a strict override not satisfied), or 'balance'.
 */
export class OverrideHostSelector {
  readonly #byKey = new Map<string, Host>();

  constructor(
    hosts: HostSet,
    private readonly statuses: ReadonlySet<HostHealth>,
    private readonly statusOf: (h: Host) => HostHealth,
  ) {
    // Envoy's cross-priority host map: every host of every priority, the first of a duplicated address kept.
    for (const h of hosts.hosts) if (!this.#byKey.has(h.key)) this.#byKey.set(h.key, h);
  }

  select(o: OverrideHost): Host | undefined | 'balance' {
    const h = this.#byKey.get(o.address);
    if (h !== undefined && this.statuses.has(this.statusOf(h))) return h;
    return o.strict ? undefined : 'balance';
  }
}

// What the admin's /config_dump and /clusters read: the xDS client's accepted tables and per-type state,
// the bootstrap as loaded, and (in a process that serves traffic) the live upstream clusters. Only types
// here; the admin never changes what it reads.

import type { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import type { Bootstrap } from '../../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { ResourceTable, TypeState, WarmingType } from '../xds-client/ads-client.js';
import type { ProxyTypeUrl, ResourceByType } from '../xds-client/validate.js';
import type { Host } from '../upstream/host.js';
import type { HostStatsCounters } from '../upstream/cluster-handle.js';
import type { Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';

export interface LoadedBootstrap {
  /** The Bootstrap as parsed from its file. */
  readonly config: Bootstrap;
  /**
   * The node this proxy presents to the control plane: the bootstrap's, with what the proxy added to its
   * metadata (Envoy's bootstrap dump also shows its running node, user agent filled in).
   */
  readonly node: Node;
  /** When it was loaded (ISO time): last_updated of the bootstrap and of its static resources. */
  readonly loadedAt: string;
}

/** A running upstream cluster as /clusters reads it (UpstreamCluster is one). */
export interface LiveCluster {
  /** The hosts the cluster balances over now (hosts EDS removed that still pass health checks included). */
  readonly hosts: { readonly hosts: readonly Host[] };
  /** Envoy's health_flags text of a host (`healthy`, `/failed_active_hc/failed_outlier_check` ...). */
  healthFlags(key: string): string | undefined;
  /** Requests in flight to a host (Envoy's per-host rq_active gauge). */
  activeRequests(key: string): number;
  /** A host's counters (Envoy's per-host rq_total, rq_success, rq_error, rq_timeout, cx_total, cx_connect_fail) and open connections (cx_active). */
  hostCounters?(key: string): HostStatsCounters;
}

export interface DumpSource {
  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]>;
  typeState(type: ProxyTypeUrl): TypeState;
  /** The bootstrap; without it the dump has no BootstrapConfigDump and no static resources. */
  readonly bootstrap?: LoadedBootstrap;
  /**
   * The live cluster of a CDS name, e.g. `(c) => dataPlane.clusters.get(c)`: /clusters then lists its hosts
   * with their live health and stats. Absent (a multi-worker primary, whose workers hold that state) or
   * undefined: the cluster's endpoints from the xDS tables, with their EDS health.
   */
  liveCluster?(name: string): LiveCluster | undefined;
  /**
   * A host's live health_flags, for sources without `liveCluster` (`eds`: its EDS health, for the flags that
   * come from it); undefined falls back to the EDS health.
   */
  hostHealthFlags?(cluster: string, host: string, eds: HealthStatus): string | undefined;
  /** A DNS cluster's hosts as resolved, for sources without `liveCluster` (a multi-worker primary's dns-hub.ts). */
  dnsHosts?(cluster: string): ClusterLoadAssignment | undefined;
  /**
   * Hosts discovery removed that the workers still balance over while they pass their health checks
   * (/pending_dynamic_removal), for sources without `liveCluster` (a multi-worker primary's health-hub.ts).
   */
  retainedHosts?(cluster: string): readonly Host[];
  /**
   * Listener and cluster versions serving traffic (ListenersConfigDump active_state, dynamic_active_clusters);
   * with `warming`, those still warming (warming_state, dynamic_warming_clusters). Absent: every accepted
   * resource is listed as active.
   */
  servingTable?<T extends WarmingType>(type: T): ResourceTable<ResourceByType[T]>;
  warming?<T extends WarmingType>(type: T): ResourceTable<ResourceByType[T]>;
  /** Secrets served by the proxy's own workload agent (`default`, `ROOTCA`), listed with the SDS ones. */
  agentSecrets?(): readonly { readonly name: string; readonly version: string; readonly lastUpdated: string; readonly secret: Secret }[];
}

// Envoy's cluster manager: the live UpstreamClusters by name, reconciled with each accepted CDS/EDS table.
// A cluster whose config did not change keeps its pools, balancer state and outlier history; a changed
// cluster is rebuilt and the old one closed after its in-flight requests; endpoints are applied per EDS
// resource name.

import { equals } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { CompiledCluster } from '../runtime/compile-cluster.js';
import { UpstreamCluster, type UpstreamDeps } from './upstream-cluster.js';

export interface AssignmentEntry {
  readonly message: ClusterLoadAssignment;
  readonly version: string;
}

export class ClusterManager {
  #clusters = new Map<string, UpstreamCluster>();
  readonly #assignmentSeen = new WeakSet<ClusterLoadAssignment>();

  constructor(private readonly deps: UpstreamDeps) {}

  get(name: string): UpstreamCluster | undefined {
    return this.#clusters.get(name);
  }

  all(): ReadonlyMap<string, UpstreamCluster> {
    return this.#clusters;
  }

  /** Reconciles with the accepted clusters and endpoint assignments (keyed by EDS service name). */
  apply(clusters: ReadonlyMap<string, CompiledCluster>, assignments: ReadonlyMap<string, AssignmentEntry>): void {
    const next = new Map<string, UpstreamCluster>();
    for (const [name, c] of clusters) {
      const old = this.#clusters.get(name);
      const a = c.kind === 'eds' ? assignments.get(c.edsName) : undefined;
      if (old !== undefined && (old.config === c || equals(ClusterSchema, old.config.proto, c.proto))) {
        next.set(name, old);
        if (a !== undefined && !this.#assignmentSeen.has(a.message)) {
          old.setAssignment(a.message, a.version);
          this.#assignmentSeen.add(a.message);
        }
        continue;
      }
      const u = new UpstreamCluster(c, this.deps, a?.message);
      if (a !== undefined) {
        u.assignmentVersion = a.version;
        this.#assignmentSeen.add(a.message);
      }
      next.set(name, u);
    }
    for (const [name, old] of this.#clusters) if (next.get(name) !== old) old.close();
    this.#clusters = next;
  }

  /** Brings each live cluster's state gauges (membership) up to date; the proxy calls it before its stats are read. */
  refreshStats(): void {
    for (const c of this.#clusters.values()) c.refreshStats();
  }

  close(): void {
    for (const c of this.#clusters.values()) c.close();
    this.#clusters = new Map();
  }
}

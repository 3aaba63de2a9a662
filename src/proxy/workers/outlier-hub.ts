// The primary's outlier detectors with `--concurrency N`: Envoy's main thread runs one detector per cluster
// with outlier_detection, fed by every worker's outcomes, and an ejection applies to all workers
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier: "Outlier detection
// ... ejection" is per cluster, not per worker). Here each worker relays its outcomes (outlier-relay.ts),
// the hub feeds them to the cluster's one OutlierDetector (the same class a single process runs), counts
// the outlier_detection stats once in the primary's store, and publishes the cluster's ejected hosts to
// every worker on each ejection and return. The hub watches the clusters and endpoints the workers serve
// (the ADS client's serving tables) and keeps a detector, with its history, while its cluster's config
// does not change, as a cluster manager keeps a cluster.
// Hosts a worker keeps after EDS removed them because they pass active health checks are watched too: the
// primary's health hub keeps the same ones (`extraHosts`), as a single process's detector watches its cluster's
// whole host set.

import { equals } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';
import type { CompiledCluster } from '../runtime/compile-cluster.js';
import type { StatsScope } from '../stats/stats-store.js';
import { countOutlierEvent, setEjectionsActive } from '../upstream/cluster-stats.js';
import { hostSetFromAssignment } from '../upstream/host.js';
import { OutlierDetector } from '../upstream/outlier-detector.js';
import { OUTLIER_RESULT_KINDS, type WireOutlierResults } from './ipc-protocol.js';

export interface OutlierHubOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** The primary's stats store: `cluster.<stat name>.outlier_detection.*` are counted here. */
  readonly stats: StatsScope;
  /** Tells every worker a cluster's ejected hosts (after each ejection or return, and on rebuild). */
  readonly publish: (cluster: string, ejected: readonly string[]) => void;
}

interface Watched {
  readonly config: CompiledCluster;
  readonly detector: OutlierDetector;
  /** `cluster.<stat name>` in the primary's store. */
  readonly scope: StatsScope;
  /** The watched host keys, joined: what the detector was last given. */
  keys: string;
}

function hostKeys(cla: ClusterLoadAssignment | undefined): string[] {
  return cla === undefined ? [] : hostSetFromAssignment(cla).hosts.map((h) => h.key);
}

export class OutlierHub {
  #clusters = new Map<string, Watched>();

  constructor(private readonly o: OutlierHubOptions) {}

  /**
   * Reconciles with the served clusters; `assignmentOf` gives a cluster's hosts as the workers have them (EDS's,
   * the primary's DNS answer for a DNS cluster, or the static ones; undefined: none yet).
   */
  apply(
    clusters: ReadonlyMap<string, CompiledCluster>,
    assignmentOf: (c: CompiledCluster) => ClusterLoadAssignment | undefined,
    /** Hosts of a cluster kept beyond its assignment (EDS removed them; they pass their health checks). */
    extraHosts?: (cluster: string) => readonly string[],
  ): void {
    const next = new Map<string, Watched>();
    for (const [name, c] of clusters) {
      const od = c.proto.outlierDetection;
      if (od === undefined || c.kind === 'original-dst') continue;
      const hosts = [...hostKeys(assignmentOf(c)), ...(extraHosts?.(name) ?? [])];
      const keys = hosts.join(',');
      const old = this.#clusters.get(name);
      if (old !== undefined && (old.config === c || equals(ClusterSchema, old.config.proto, c.proto))) {
        next.set(name, old);
        if (old.keys !== keys) {
          old.keys = keys;
          const before = old.detector.ejectionCount();
          old.detector.setHosts(hosts);
          if (old.detector.ejectionCount() !== before) {
            setEjectionsActive(old.scope, old.detector.ejectionCount());
            this.o.publish(name, old.detector.ejectedHosts());
          }
        }
        continue;
      }
      const scope = this.o.stats.scope(`cluster.${c.proto.altStatName || c.name}`);
      const detector: OutlierDetector = new OutlierDetector(od, this.o.clock, this.o.random, (e) => {
        countOutlierEvent(scope, e, detector.ejectionCount());
        if (e.action === 'uneject' || (e.action === 'eject' && e.enforced)) this.o.publish(name, detector.ejectedHosts());
      });
      detector.setHosts(hosts);
      setEjectionsActive(scope, 0);
      next.set(name, { config: c, detector, scope, keys });
    }
    for (const [name, old] of this.#clusters) {
      if (next.get(name) === old) continue;
      old.detector.close();
      setEjectionsActive(old.scope, 0);
      // The workers' view of the name must not keep the old detector's ejections.
      if (old.detector.ejectionCount() > 0) this.o.publish(name, []);
    }
    this.#clusters = next;
  }

  /** A worker's batch of outcomes, in the order it saw them. */
  report(results: readonly WireOutlierResults[]): void {
    for (const r of results) {
      const d = this.#clusters.get(r.cluster)?.detector;
      if (d === undefined) continue;
      for (let i = 0; i + 1 < r.runs.length; i += 2) {
        const kind = OUTLIER_RESULT_KINDS[r.runs[i] as number];
        if (kind !== undefined) d.reportResults(r.host, kind, r.runs[i + 1] as number);
      }
    }
  }

  /** A host passed an active health check (health-hub.ts): as the worker's cluster would report it to a local detector. */
  activeHealthCheckPassed(cluster: string, host: string): void {
    this.#clusters.get(cluster)?.detector.reportResult(host, 'active-hc-success');
  }

  isEjected(cluster: string, host: string): boolean {
    return this.#clusters.get(cluster)?.detector.isEjected(host) ?? false;
  }

  /** Every cluster with ejected hosts now, for a worker that just started. */
  ejections(): { readonly cluster: string; readonly ejected: readonly string[] }[] {
    const out: { cluster: string; ejected: string[] }[] = [];
    for (const [cluster, w] of this.#clusters) if (w.detector.ejectionCount() > 0) out.push({ cluster, ejected: w.detector.ejectedHosts() });
    return out;
  }

  close(): void {
    for (const w of this.#clusters.values()) w.detector.close();
    this.#clusters = new Map();
  }
}

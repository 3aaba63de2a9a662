// The primary's DNS resolution with `--concurrency N`: Envoy resolves a STRICT_DNS or LOGICAL_DNS cluster's
// names on its main thread and hands the hosts to every worker (the DNS cluster's resolve targets live in
// the cluster manager, not per worker), so a name is asked once per refresh whatever the concurrency and
// every worker balances over the same answer. Here the primary runs the cluster's DnsDiscovery (the class
// a single process runs, with its timers, TTLs, failure back-off and update_* stats, counted once in the
// primary's store) and publishes each new host list to every worker as a ClusterLoadAssignment; a worker's
// cluster manager takes the hosts instead of resolving (ClusterManagerDeps.dnsFromPrimary). A discovery is
// kept while its cluster's config does not change; a changed cluster starts again from its names, which
// are published at once so that no worker keeps the hosts of the old config.

import { equals } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';
import type { CompiledCluster } from '../runtime/compile-cluster.js';
import type { DnsResolverSettings } from '../runtime/compile-dns.js';
import type { StatsScope } from '../stats/stats-store.js';
import { clusterDnsDiscovery, type DnsDiscovery } from '../upstream/dns-discovery.js';
import type { DnsResolver } from '../upstream/dns-resolver.js';

export interface DnsHubOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** The primary's stats store: `cluster.<stat name>.update_*` are counted here. */
  readonly stats: StatsScope;
  /** The resolver for a cluster's settings (default: dns-resolver.ts's, system or c-ares). */
  readonly resolver?: (s: DnsResolverSettings) => DnsResolver;
  /** Tells every worker a DNS cluster's hosts (on each change of the answer, and when a cluster starts). */
  readonly publish: (cluster: string, hosts: ClusterLoadAssignment) => void;
}

interface Watched {
  readonly config: CompiledCluster;
  readonly discovery: DnsDiscovery;
  hosts: ClusterLoadAssignment;
}

export class DnsHub {
  #watched = new Map<string, Watched>();

  constructor(private readonly o: DnsHubOptions) {}

  /** Reconciles with the clusters the workers serve: a discovery per DNS cluster. */
  apply(clusters: ReadonlyMap<string, CompiledCluster>): void {
    const next = new Map<string, Watched>();
    for (const [name, c] of clusters) {
      if (c.dns === undefined) continue;
      const old = this.#watched.get(name);
      if (old !== undefined && (old.config === c || equals(ClusterSchema, old.config.proto, c.proto))) {
        next.set(name, old);
        continue;
      }
      const o = this.o;
      const discovery = clusterDnsDiscovery(c, o, (hosts) => {
        w.hosts = hosts;
        o.publish(name, hosts);
      });
      if (discovery === undefined) continue;
      const w: Watched = { config: c, discovery, hosts: discovery.current() };
      next.set(name, w);
      o.publish(name, w.hosts);
      discovery.start();
    }
    for (const [name, old] of this.#watched) if (next.get(name) !== old) old.discovery.close();
    this.#watched = next;
  }

  /** A DNS cluster's hosts now (the primary's /clusters), undefined for any other cluster. */
  hostsOf(cluster: string): ClusterLoadAssignment | undefined {
    return this.#watched.get(cluster)?.hosts;
  }

  /** Every DNS cluster's hosts now: what a (re)started worker is told first. */
  hosts(): { cluster: string; hosts: ClusterLoadAssignment }[] {
    return [...this.#watched].map(([cluster, w]) => ({ cluster, hosts: w.hosts }));
  }

  close(): void {
    for (const w of this.#watched.values()) w.discovery.close();
    this.#watched = new Map();
  }
}

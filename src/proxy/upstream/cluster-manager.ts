// Envoy's cluster manager: the live UpstreamClusters by name, reconciled with each accepted CDS/EDS table.
// A cluster whose config did not change keeps its pools, balancer state and outlier history; a changed
// cluster is rebuilt and the old one closed after its in-flight requests; endpoints are applied per EDS
// resource name. A STRICT_DNS or LOGICAL_DNS cluster gets a DnsDiscovery (dns-discovery.ts) that hands it the
// hosts its names resolve to, stopped with the cluster.

import { equals } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { CompiledCluster } from '../runtime/compile-cluster.js';
import { UpstreamCluster, type UpstreamDeps } from './upstream-cluster.js';
import { clusterDnsDiscovery, type DnsDiscovery } from './dns-discovery.js';
import type { DnsResolver } from './dns-resolver.js';
import type { DnsResolverSettings } from '../runtime/compile-dns.js';

export interface AssignmentEntry {
  readonly message: ClusterLoadAssignment;
  readonly version: string;
}

export interface ClusterManagerDeps extends UpstreamDeps {
  /** The resolver for a DNS cluster's settings (default: dns-resolver.ts's, system or c-ares). */
  readonly dnsResolver?: (s: DnsResolverSettings) => DnsResolver;
  /**
   * A `--concurrency` worker: DNS clusters take their hosts from the primary's resolution (setDnsHosts,
   * workers/dns-hub.ts) instead of resolving for themselves.
   */
  readonly dnsFromPrimary?: boolean;
}

export class ClusterManager {
  #clusters = new Map<string, UpstreamCluster>();
  readonly #assignmentSeen = new WeakSet<ClusterLoadAssignment>();
  readonly #discovery = new WeakMap<UpstreamCluster, DnsDiscovery>();
  /** With dnsFromPrimary: each DNS cluster's hosts as the primary last sent them. */
  readonly #dnsHosts = new Map<string, ClusterLoadAssignment>();

  constructor(private readonly deps: ClusterManagerDeps) {}

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
      next.set(name, c.dns !== undefined ? this.#dnsCluster(c) : this.#cluster(c, a));
    }
    for (const [name, old] of this.#clusters) if (next.get(name) !== old) this.#close(old);
    for (const name of this.#dnsHosts.keys()) if (!clusters.has(name)) this.#dnsHosts.delete(name);
    this.#clusters = next;
  }

  #cluster(c: CompiledCluster, a: AssignmentEntry | undefined): UpstreamCluster {
    const u = new UpstreamCluster(c, this.deps, a?.message);
    if (a !== undefined) {
      u.assignmentVersion = a.version;
      this.#assignmentSeen.add(a.message);
    }
    return u;
  }

  /** The hosts the primary resolved for a DNS cluster (dnsFromPrimary): the cluster balances over them from now on. */
  setDnsHosts(cluster: string, hosts: ClusterLoadAssignment): void {
    this.#dnsHosts.set(cluster, hosts);
    const u = this.#clusters.get(cluster);
    if (u?.config.dns !== undefined) u.setAssignment(hosts, '');
  }

  #dnsCluster(c: CompiledCluster): UpstreamCluster {
    let u: UpstreamCluster | undefined;
    // Until the primary's first answer the endpoints are used by name, as before a first resolution.
    const d = this.deps.dnsFromPrimary === true ? undefined : clusterDnsDiscovery(c, { ...this.deps, resolver: this.deps.dnsResolver }, (hosts) => u?.setAssignment(hosts, ''));
    if (d === undefined) return new UpstreamCluster(c, this.deps, this.#dnsHosts.get(c.name));
    u = new UpstreamCluster(c, this.deps, d.current());
    this.#discovery.set(u, d);
    d.start();
    return u;
  }

  #close(u: UpstreamCluster): void {
    this.#discovery.get(u)?.close();
    u.close();
  }

  /** Brings each live cluster's state gauges (membership) up to date; the proxy calls it before its stats are read. */
  refreshStats(): void {
    for (const c of this.#clusters.values()) c.refreshStats();
  }

  close(): void {
    for (const c of this.#clusters.values()) this.#close(c);
    this.#clusters = new Map();
  }
}

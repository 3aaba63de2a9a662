// The primary's active health checkers with `--concurrency N`. Envoy runs one health checker per cluster with
// health_checks on its main thread, so each host is checked once per interval whatever the number of workers
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking). Here the hub runs
// the cluster's HealthChecker (the same class a single process runs) over the hosts the workers balance over:
// the cluster's EDS assignment, or a DNS cluster's resolved hosts (dns-hub.ts), or its static ones, plus the hosts
// EDS removed that stay while they pass their checks (health-checker-hosts.ts, as UpstreamCluster keeps them).
// After every check that changed a host's flags, and on every change of hosts, it sends every worker the
// cluster's flags (health-relay.ts balances by them). A worker tells it a cluster's first traffic
// (no_traffic_interval no longer applies: Envoy asks whether the cluster's upstream_cx_total was ever used,
// which, like the flag here, outlives a change of the cluster's config). A passing check also counts for the
// cluster's outlier detector (`onHealthyCheck`: Envoy unejects a host that passes when
// successful_active_health_check_uneject_host), which runs in the primary too (outlier-hub.ts).
// A checker, with its hosts' history, is kept while its cluster's config does not change.

import { equals } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';
import type { CompiledCluster } from '../runtime/compile-cluster.js';
import type { SecretSource } from '../upstream/connection-pools.js';
import type { StatsScope } from '../stats/stats-store.js';
import { HealthChecker, type ProbeFactory } from '../upstream/health-checker.js';
import { compileClusterHealthCheck } from '../upstream/health-checker-config.js';
import type { HostHealthFlags } from '../upstream/health-checker-flags.js';
import { hostCheckSpecs, retainedHosts, withoutHosts, withRetainedHosts, type HostCheckSpec } from '../upstream/health-checker-hosts.js';
import { hostSetFromAssignment, type Host, type HostSet } from '../upstream/host.js';
import { encodeHealthFlags, type WireHostHealth } from './ipc-protocol.js';

export interface HealthHubOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** SDS and file secrets, for checks over a cluster's TLS transport socket. */
  readonly secrets: SecretSource;
  /** Tells every worker a cluster's host flags (after each change, and [] for a cluster no longer checked). */
  readonly publish: (cluster: string, hosts: readonly WireHostHealth[]) => void;
  /** A check a host of `cluster` passed while not failed (for the primary's outlier detector). */
  readonly onHealthyCheck?: (cluster: string, key: string) => void;
  /** The primary's stats store: `cluster.<stat name>.health_check.*` are counted here, once for the proxy. */
  readonly stats?: StatsScope;
  /** A host kept after EDS removed it failed a check and left (`retained` changed outside apply()). */
  readonly onRetainedChange?: (cluster: string) => void;
  /** How probes are built (tests); the default talks HTTP, gRPC or TCP to the host. */
  readonly probeFactory?: ProbeFactory;
}

interface Watched {
  readonly config: CompiledCluster;
  checker: HealthChecker;
  assignment: ClusterLoadAssignment | undefined;
  hosts: HostSet;
  specs: Map<string, HostCheckSpec>;
  /** Hosts EDS removed that stay while they pass their checks. */
  pendingRemoval: Set<string>;
  /** The flags last published, as sent. */
  sent: string;
}

function emptyAssignment(name: string): ClusterLoadAssignment {
  return { $typeName: 'envoy.config.endpoint.v3.ClusterLoadAssignment', clusterName: name, endpoints: [], namedEndpoints: {} };
}

export class HealthHub {
  #clusters = new Map<string, Watched>();
  /** Clusters some worker has sent traffic to. */
  readonly #traffic = new Set<string>();

  constructor(private readonly o: HealthHubOptions) {}

  /**
   * Reconciles with the served clusters; `assignmentOf` gives a cluster's hosts as the workers have them
   * (undefined: none yet, e.g. a DNS cluster not resolved).
   */
  apply(clusters: ReadonlyMap<string, CompiledCluster>, assignmentOf: (c: CompiledCluster) => ClusterLoadAssignment | undefined): void {
    const next = new Map<string, Watched>();
    for (const [name, c] of clusters) {
      if (c.kind === 'original-dst' || c.proto.healthChecks.length === 0) continue;
      const compiled = compileClusterHealthCheck(c.proto);
      if (!compiled.ok || compiled.value === undefined) continue;
      const cla = assignmentOf(c);
      const old = this.#clusters.get(name);
      if (old !== undefined && (old.config === c || equals(ClusterSchema, old.config.proto, c.proto))) {
        next.set(name, old);
        if (old.assignment !== cla) this.#assign(name, old, cla);
        continue;
      }
      const w: Watched = { config: c, checker: undefined as unknown as HealthChecker, assignment: undefined, hosts: hostSetFromAssignment(emptyAssignment(name)), specs: new Map(), pendingRemoval: new Set(), sent: '' };
      w.checker = new HealthChecker(
        compiled.value,
        c,
        {
          clock: this.o.clock,
          random: this.o.random,
          secrets: this.o.secrets,
          hasTraffic: () => this.#traffic.has(name),
          onHealthChange: (key, failed) => this.#onHealthChange(w, key, failed),
          onHealthyCheck: (key) => this.o.onHealthyCheck?.(name, key),
          onChecked: () => this.#publish(name, w),
          ...(this.o.probeFactory !== undefined ? { probeFactory: this.o.probeFactory } : {}),
          ...(this.o.stats !== undefined ? { stats: this.o.stats.scope(`cluster.${c.proto.altStatName || c.name}`) } : {}),
        },
        c.proto.commonLbConfig?.ignoreNewHostsUntilFirstHc ?? false,
      );
      next.set(name, w);
      this.#assign(name, w, cla);
    }
    for (const [name, old] of this.#clusters) {
      if (next.get(name) === old) continue;
      old.checker.close();
      // A replaced checker published its own hosts already; a cluster no longer checked leaves no flags behind.
      if (!next.has(name)) this.o.publish(name, []);
    }
    this.#clusters = next;
  }

  /** A worker's cluster carried its first request or connection. */
  traffic(cluster: string): void {
    this.#traffic.add(cluster);
  }

  /** A worker saw x-envoy-immediate-health-check-fail on a response of `key`: it fails at once. */
  failImmediately(cluster: string, key: string): void {
    this.#clusters.get(cluster)?.checker.failImmediately(key);
  }

  /** A host's active-HC flags (with /pending_dynamic_removal), for the primary's /clusters; undefined when not checked. */
  flags(cluster: string, key: string): HostHealthFlags | undefined {
    const w = this.#clusters.get(cluster);
    const f = w?.checker.flags(key);
    return f === undefined ? undefined : { ...f, pendingDynamicRemoval: w?.pendingRemoval.has(key) ?? false };
  }

  /** The hosts of a cluster EDS removed that stay while they pass their checks (/pending_dynamic_removal). */
  retained(cluster: string): string[] {
    return [...(this.#clusters.get(cluster)?.pendingRemoval ?? [])];
  }

  /** The same hosts as the workers balance over them (address, weight, locality...), for the primary's /clusters. */
  retainedHosts(cluster: string): readonly Host[] {
    const w = this.#clusters.get(cluster);
    return w === undefined || w.pendingRemoval.size === 0 ? [] : w.hosts.hosts.filter((h) => w.pendingRemoval.has(h.key));
  }

  /** Every checked cluster's flags now: what a (re)started worker is told first. */
  states(): { readonly cluster: string; readonly hosts: readonly WireHostHealth[] }[] {
    return [...this.#clusters].map(([cluster, w]) => ({ cluster, hosts: this.#wire(w) }));
  }

  close(): void {
    for (const w of this.#clusters.values()) w.checker.close();
    this.#clusters = new Map();
  }

  /** New hosts for a cluster: checked from now on, with the removed ones that pass their checks kept (as UpstreamCluster.setAssignment). */
  #assign(name: string, w: Watched, cla: ClusterLoadAssignment | undefined): void {
    let hosts = hostSetFromAssignment(cla ?? emptyAssignment(name));
    const specs = hostCheckSpecs(cla);
    w.pendingRemoval = new Set();
    if (!w.config.proto.ignoreHealthOnHostRemoval) {
      const retained = retainedHosts(w.hosts, w.specs, hosts, (k) => w.checker.isFailed(k));
      for (const h of retained) {
        specs.set(h.key, w.specs.get(h.key) as HostCheckSpec);
        w.pendingRemoval.add(h.key);
      }
      hosts = withRetainedHosts(hosts, retained, w.hosts);
    }
    w.assignment = cla;
    w.hosts = hosts;
    w.specs = specs;
    w.checker.setHosts(specs.values());
    this.#publish(name, w);
  }

  /** A failing host EDS had removed leaves (the workers drop it when its flags go: not reported is failed). */
  #onHealthChange(w: Watched, key: string, failed: boolean): void {
    if (!failed || !w.pendingRemoval.delete(key)) return;
    w.hosts = withoutHosts(w.hosts, new Set([key]));
    w.specs.delete(key);
    w.checker.setHosts(w.specs.values());
    this.o.onRetainedChange?.(w.config.name);
  }

  #wire(w: Watched): WireHostHealth[] {
    const out: WireHostHealth[] = [];
    for (const key of w.specs.keys()) {
      const f = w.checker.flags(key);
      if (f !== undefined) out.push([key, encodeHealthFlags(f)]);
    }
    return out;
  }

  #publish(name: string, w: Watched): void {
    const hosts = this.#wire(w);
    const text = JSON.stringify(hosts);
    if (text === w.sent) return;
    w.sent = text;
    this.o.publish(name, hosts);
  }
}

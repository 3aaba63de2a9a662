// Host discovery for STRICT_DNS and LOGICAL_DNS clusters, as Envoy's DNS cluster does it
// (source/extensions/clusters/dns/dns_cluster.cc): one resolve target per endpoint of the cluster's
// load_assignment, each resolved on its own timer.
// - STRICT_DNS: every address of the answer is a host with the endpoint's port, weight, locality, priority,
//   health status and metadata, and the name as its hostname (unless the endpoint has one). An empty answer
//   is no hosts.
// - LOGICAL_DNS: one host, the answer's first address; an empty answer is a failure.
// - After a success the target is resolved again after dns_refresh_rate, or the answer's TTL with
//   respect_dns_ttl (a TTL of 0 keeps the refresh rate); after a failure after the failure back-off
//   (dns_failure_refresh_rate: a random wait below an interval doubling from base to max, reset by any
//   success; without it the refresh rate). A failure keeps the hosts the target had.
// - Stats (Envoy's cluster config update stats): update_attempt per resolution, then update_success or
//   update_failure; update_no_rebuild when a successful answer changed nothing.
// The hosts are handed to the cluster as a ClusterLoadAssignment, so they get what EDS hosts get (pools kept
// while a host stays, outlier and health state). Where Envoy keeps a new cluster warming until its names are
// resolved, an endpoint here serves by its name (each connection resolving it) until its first resolution
// completes; after that only resolved addresses are used (a first resolution that fails leaves no hosts, as
// in Envoy). With `--concurrency` the primary resolves for every worker (workers/dns-hub.ts), as Envoy's main
// thread does.

import { clone, create } from '@bufbuild/protobuf';
import { isIP } from 'node:net';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { LbEndpointSchema, LocalityLbEndpointsSchema, type LbEndpoint } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import type { Clock } from '../../lib/clock.js';
import type { Random } from '../lib/random.js';
import type { CompiledDns, DnsResolverSettings } from '../runtime/compile-dns.js';
import type { CompiledCluster } from '../runtime/compile-cluster.js';
import type { Counter } from '../stats/metric.js';
import type { StatsScope } from '../stats/stats-store.js';
import { resolverFor, type DnsResolver } from './dns-resolver.js';

interface Target {
  readonly locality: number;
  readonly endpoint: LbEndpoint;
  readonly name: string;
  readonly port: number;
  /** undefined until the first resolution completes (the endpoint is then used by its name). */
  addresses: readonly string[] | undefined;
  timer: { cancel(): void } | undefined;
}

export interface DnsDiscoveryDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly resolver: DnsResolver;
  /** The cluster's stats scope (`cluster.<stat name>`). */
  readonly stats: StatsScope | undefined;
}

/**
 * The discovery of a DNS cluster's load_assignment (not started), with the resolver its settings name
 * (`resolver`, default dns-resolver.ts's) and its update_* stats under `cluster.<stat name>` of `stats`;
 * undefined for a cluster that is not a DNS cluster with endpoints. Used by a cluster manager and, with
 * `--concurrency`, by the primary (workers/dns-hub.ts).
 */
export function clusterDnsDiscovery(
  c: CompiledCluster,
  deps: { readonly clock: Clock; readonly random: Random; readonly resolver?: ((s: DnsResolverSettings) => DnsResolver) | undefined; readonly stats?: StatsScope | undefined },
  onHosts: (cla: ClusterLoadAssignment) => void,
): DnsDiscovery | undefined {
  const cla = c.proto.loadAssignment;
  if (c.dns === undefined || cla === undefined) return undefined;
  const resolver = (deps.resolver ?? resolverFor)(c.dns.resolver);
  return new DnsDiscovery(cla, c.dns, { clock: deps.clock, random: deps.random, resolver, stats: deps.stats?.scope(`cluster.${c.proto.altStatName || c.name}`) }, onHosts);
}

interface UpdateStats {
  readonly attempt: Counter | undefined;
  readonly success: Counter | undefined;
  readonly failure: Counter | undefined;
  readonly noRebuild: Counter | undefined;
}

function socketOf(e: LbEndpoint): { address: string; port: number } | undefined {
  const a = e.hostIdentifier.case === 'endpoint' ? e.hostIdentifier.value.address?.address : undefined;
  if (a?.case !== 'socketAddress' || a.value.portSpecifier.case !== 'portValue') return undefined;
  return { address: a.value.address, port: a.value.portSpecifier.value };
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

export class DnsDiscovery {
  readonly #targets: Target[] = [];
  readonly #stats: UpdateStats;
  /** The failure back-off's current interval (dns_failure_refresh_rate), shared by the cluster's targets. */
  #backoffMs: number;
  #closed = false;

  constructor(
    private readonly assignment: ClusterLoadAssignment,
    private readonly dns: CompiledDns,
    private readonly deps: DnsDiscoveryDeps,
    private readonly onHosts: (cla: ClusterLoadAssignment) => void,
  ) {
    const s = deps.stats;
    this.#stats = { attempt: s?.counter('update_attempt'), success: s?.counter('update_success'), failure: s?.counter('update_failure'), noRebuild: s?.counter('update_no_rebuild') };
    // One resolver per proxy (with --concurrency, the primary's): merged as the largest, never summed.
    for (const c of Object.values(this.#stats)) if (c !== undefined) c.shared = true;
    this.#backoffMs = dns.failureBackoff?.baseMs ?? dns.refreshMs;
    assignment.endpoints.forEach((l, li) =>
      l.lbEndpoints.forEach((e) => {
        const sa = socketOf(e);
        if (sa === undefined) return; // compile-dns refuses such clusters
        // An IP literal is its own answer: hosts from the start, with the literal as hostname (Envoy's too).
        const addresses = isIP(sa.address) !== 0 ? [sa.address] : undefined;
        this.#targets.push({ locality: li, endpoint: e, name: sa.address, port: sa.port, addresses, timer: undefined });
      }),
    );
  }

  /** The hosts as they are now: resolved addresses, and endpoints not yet resolved by name. */
  current(): ClusterLoadAssignment {
    const cla = create(ClusterLoadAssignmentSchema, { clusterName: this.assignment.clusterName, namedEndpoints: this.assignment.namedEndpoints });
    if (this.assignment.policy !== undefined) cla.policy = this.assignment.policy;
    cla.endpoints = this.assignment.endpoints.map((l, li) => {
      const out = clone(LocalityLbEndpointsSchema, l);
      out.lbEndpoints = [];
      for (const t of this.#targets) {
        if (t.locality !== li) continue;
        if (t.addresses === undefined) out.lbEndpoints.push(t.endpoint);
        else for (const a of t.addresses) out.lbEndpoints.push(this.#hostEndpoint(t, a));
      }
      return out;
    });
    return cla;
  }

  #hostEndpoint(t: Target, address: string): LbEndpoint {
    const e = clone(LbEndpointSchema, t.endpoint);
    if (e.hostIdentifier.case === 'endpoint') {
      const ep = e.hostIdentifier.value;
      if (ep.hostname === '') ep.hostname = t.name;
      const a = ep.address?.address;
      if (a?.case === 'socketAddress') a.value.address = address;
    }
    return e;
  }

  /** Starts resolving every target. */
  start(): void {
    for (const t of this.#targets) void this.#resolve(t);
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#targets) t.timer?.cancel();
  }

  async #resolve(t: Target): Promise<void> {
    t.timer = undefined;
    this.#stats.attempt?.inc();
    let next = this.dns.refreshMs;
    try {
      const answer = await this.deps.resolver.resolve(t.name, this.dns.family);
      if (this.#closed) return;
      // LOGICAL_DNS does not accept an empty answer; STRICT_DNS takes it as no hosts.
      if (this.dns.logical && answer.addresses.length === 0) throw new Error(`no addresses for ${t.name}`);
      this.#stats.success?.inc();
      this.#backoffMs = this.dns.failureBackoff?.baseMs ?? this.dns.refreshMs;
      const addresses = this.dns.logical ? answer.addresses.slice(0, 1) : answer.addresses;
      if (sameList(t.addresses, addresses)) this.#stats.noRebuild?.inc();
      else {
        t.addresses = addresses;
        this.onHosts(this.current());
      }
      if (this.dns.respectTtl && answer.addresses.length > 0 && answer.ttlSeconds !== undefined && answer.ttlSeconds > 0) next = answer.ttlSeconds * 1000;
    } catch {
      if (this.#closed) return;
      this.#stats.failure?.inc();
      next = this.#failureWait();
      if (t.addresses === undefined) {
        t.addresses = [];
        this.onHosts(this.current());
      }
    }
    if (!this.#closed) t.timer = this.deps.clock.setTimeout(() => void this.#resolve(t), next);
  }

  /** Envoy's JitteredExponentialBackOffStrategy (or the fixed refresh rate without dns_failure_refresh_rate). */
  #failureWait(): number {
    const b = this.dns.failureBackoff;
    if (b === undefined) return this.dns.refreshMs;
    const interval = this.#backoffMs;
    this.#backoffMs = interval > b.maxMs / 2 ? b.maxMs : interval * 2;
    return Math.max(1, Math.min(Math.floor(this.deps.random.next() * interval), b.maxMs));
  }
}

// A worker's side of active health checking with `--concurrency N`. Envoy runs a cluster's health checker on its
// main thread, once for the whole proxy, and the workers see each host's health flags
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/health_checking; the checker is
// created by the cluster, which lives on the main thread, and host health reaches the workers with the host
// set). Worker processes share no memory, so the primary runs the checkers (health-hub.ts) and sends each
// cluster's host flags on every change; each worker cluster balances by them:
// - a host the worker checks (a spec without disable_active_health_check) that the primary has not reported
//   yet is failed, as a host is before its first check (PENDING_ACTIVE_HC too under
//   ignore_new_hosts_until_first_hc); a host that is not checked is never failed;
// - a change of a host's failed state calls the cluster back, as the checker would (a failing host that EDS
//   removed leaves, pools may be closed);
// - the cluster's first request or connection is told to the primary once, for no_traffic_interval;
// - an upstream response with x-envoy-immediate-health-check-fail is told to the primary, whose checker fails the
//   host at once (Envoy's router posts it to the main thread the same way).
// State is kept per cluster name, across a cluster's rebuild, until the primary sends the new checker's.

import type { CompiledCluster } from '../runtime/compile-cluster.js';
import type { ActiveHealth } from '../upstream/health-checker.js';
import type { HostHealthFlags } from '../upstream/health-checker-flags.js';
import type { HostCheckSpec } from '../upstream/health-checker-hosts.js';
import { decodeHealthFlags, type FromWorker, type WireHostHealth } from './ipc-protocol.js';

/** What a worker's clusters tell the primary's health checkers. */
export type HealthRelayMessage = Extract<FromWorker, { t: 'health-traffic' | 'health-fail' }>;

const FAILED = 1; // HEALTH_FLAG_BITS[0]: failedActiveHc

/** One worker cluster's view of the primary's checker for its name. */
class RelayedHealth implements ActiveHealth {
  #checked = new Set<string>();
  #version = 0;
  #trafficTold = false;

  constructor(
    private readonly relay: HealthRelay,
    readonly cluster: string,
    /** ignore_new_hosts_until_first_hc: a host not checked yet is also PENDING_ACTIVE_HC. */
    private readonly warm: boolean,
    private readonly onHealthChange: (key: string, failed: boolean) => void,
  ) {}

  isFailed(key: string): boolean {
    if (!this.#checked.has(key)) return false;
    const bits = this.relay.bits(this.cluster, key);
    return bits === undefined || (bits & FAILED) !== 0;
  }

  flags(key: string): HostHealthFlags | undefined {
    if (!this.#checked.has(key)) return undefined;
    const bits = this.relay.bits(this.cluster, key);
    return bits === undefined ? { failedActiveHc: true, pendingActiveHc: this.warm } : decodeHealthFlags(bits);
  }

  version(): number {
    return this.#version;
  }

  setHosts(specs: Iterable<HostCheckSpec>): void {
    const checked = new Set<string>();
    for (const s of specs) if (!s.disabled) checked.add(s.key);
    this.#checked = checked;
    this.#version++;
  }

  noteTraffic(): void {
    if (this.#trafficTold) return;
    this.#trafficTold = true;
    this.relay.tell({ t: 'health-traffic', cluster: this.cluster });
  }

  failImmediately(key: string): void {
    if (this.#checked.has(key)) this.relay.tell({ t: 'health-fail', cluster: this.cluster, host: key });
  }

  close(): void {
    this.relay.detach(this);
  }

  /** The primary's flags for the cluster changed: each checked host whose failed state flipped is called back. */
  changed(failedBefore: ReadonlyMap<string, boolean>): void {
    this.#version++;
    // A callback may change the checked hosts (a failing host pending removal leaves): iterate over a copy.
    for (const key of [...this.#checked]) {
      const now = this.isFailed(key);
      if (now !== (failedBefore.get(key) ?? true)) this.onHealthChange(key, now);
    }
  }

  /** Each checked host's failed state now (taken before a change is applied). */
  failedNow(): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const key of this.#checked) out.set(key, this.isFailed(key));
    return out;
  }
}

export class HealthRelay {
  readonly #flags = new Map<string, ReadonlyMap<string, number>>();
  readonly #views = new Map<string, Set<RelayedHealth>>();

  /** `send` sends the primary a cluster's first traffic and its hosts' immediate failures. */
  constructor(private readonly send: (m: HealthRelayMessage) => void) {}

  /** UpstreamDeps.healthChecks for a worker's clusters. */
  readonly forCluster = (config: CompiledCluster, onHealthChange: (key: string, failed: boolean) => void): ActiveHealth => {
    const view = new RelayedHealth(this, config.name, config.proto.commonLbConfig?.ignoreNewHostsUntilFirstHc ?? false, onHealthChange);
    let views = this.#views.get(config.name);
    if (views === undefined) this.#views.set(config.name, (views = new Set()));
    views.add(view);
    return view;
  };

  /** The primary's flags for every host its checker checks in `cluster` (health-state). */
  apply(cluster: string, hosts: readonly WireHostHealth[]): void {
    const views = [...(this.#views.get(cluster) ?? [])];
    const before = views.map((v) => v.failedNow());
    if (hosts.length === 0) this.#flags.delete(cluster);
    else this.#flags.set(cluster, new Map(hosts));
    views.forEach((v, i) => v.changed(before[i] as Map<string, boolean>));
  }

  /** @internal A host's flags as the primary last sent them; undefined when it sent none for the host. */
  bits(cluster: string, key: string): number | undefined {
    return this.#flags.get(cluster)?.get(key);
  }

  /** @internal */
  tell(m: HealthRelayMessage): void {
    this.send(m);
  }

  /** @internal A closed cluster's view. */
  detach(view: RelayedHealth): void {
    const views = this.#views.get(view.cluster);
    views?.delete(view);
    if (views?.size === 0) this.#views.delete(view.cluster);
  }
}

// What the ADS client knows that outlives a stream, whichever protocol delivers it: per type the table of
// accepted resources (immutable, replaced whole on each accepted update), the last accepted version, the
// last rejection, and the names subscribed. Subscriptions follow the accepted config as Envoy's do: EDS for
// the EDS clusters, RDS for the HTTP connection managers' route names, SDS for the secrets the listeners'
// and clusters' TLS contexts name over ADS; CDS and LDS are wildcard. A name subscribed but not yet
// answered holds initialization (Envoy's init manager: clusters warm on their endpoints and secrets,
// listeners on their routes and secrets) until it is answered or its initial fetch times out
// (ConfigSource.initial_fetch_timeout of the source that names it: EDS from the cluster's eds_config, RDS
// from the connection manager's rds config_source, which Istio both sets to 0; 15 s by default, or the
// client's own setting, when the source leaves it unset; 0 waits forever). No I/O here.
// Warming (Envoy's configuration/listeners/lds: "When a listener is added, it will be warmed before taking
// traffic ... when a listener is updated, an entirely new listener is created ... [and] goes through the
// same warming process"; clusters likewise, configuration/upstream/cluster_manager/cds: a cluster is warmed
// before it is used): a listener serves only once the route configurations its HTTP connection managers
// name over RDS and the secrets its TLS contexts ask ADS for are answered, a cluster once its EDS
// assignment and its secrets are (or past their initial fetch timeout). Until then a new one is not served
// at all (a route to a warming cluster finds no cluster, as in Envoy), and an updated one keeps serving its
// previous version, whose routes, endpoints and secrets stay subscribed. `servingTable()` is what serves
// traffic; `table()` stays the last accepted state (what delta updates apply to and ACKs name);
// `warming(type)` holds the versions still waiting.

import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema, type RouteConfiguration } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { equals } from '@bufbuild/protobuf';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, shortTypeName } from '../../xds/type-urls.js';
import { edsFetchTimeouts, edsNamesOf, edsStatScopes, fetchTimeouts, PROXY_TYPES, rdsFetchTimeouts, rdsNamesOf, rdsStatScopes, type ProxyTypeUrl, type ResourceByType } from './validate.js';
import { clusterSecretNames, listenerSecretNames, sdsNamesOf, sdsRefsOf } from './secret-names.js';
import type { SubscriptionStats, UpdatedResource } from './subscription-stats.js';

export interface ResourceEntry<M> {
  readonly message: M;
  /** What the options' compile hook made of it (the runtime's immutable form), if any. */
  readonly compiled: unknown;
  /** SotW: version_info of the response that delivered it; delta: the resource's own version. */
  readonly version: string;
  /** When it was accepted (ISO time). */
  readonly lastUpdated: string;
}

export type ResourceTable<M> = ReadonlyMap<string, ResourceEntry<M>>;
export type AnyEntry = ResourceEntry<ResourceByType[ProxyTypeUrl]>;

export interface TypeState {
  /** Last accepted version_info (delta: system_version_info); '' before any. */
  readonly version: string;
  /** Whether a response of this type has been received (accepted or rejected) since start. */
  readonly received: boolean;
  /** Resource names subscribed (empty with wildcard). */
  readonly names: readonly string[];
  /** The problems of the last rejected response, until one is accepted. */
  readonly lastError?: string;
}

/**
 * Whether an update left a resource's content as it was. Only route configurations are compared (their
 * config_reload stat counts content changes, as Envoy compares the configuration's hash); for the other types
 * every delivery counts as a change, and nothing reads it.
 */
function sameMessage(type: ProxyTypeUrl, a: unknown, b: unknown): boolean {
  if (a === undefined) return false;
  if (type !== ROUTE_TYPE) return a === b;
  return equals(RouteConfigurationSchema, a as RouteConfiguration, b as RouteConfiguration);
}

/** Types subscribed by wildcard (the full-state types). */
export function isWildcardType(t: ProxyTypeUrl): boolean {
  return t === CLUSTER_TYPE || t === LISTENER_TYPE;
}

interface TypeRecord {
  version: string;
  received: boolean;
  names: readonly string[];
  lastError: string | undefined;
  /** Subscribed names not answered yet (neither delivered, removed nor timed out). */
  readonly pending: Set<string>;
}

export interface XdsStateOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** 0 waits forever. */
  readonly initialFetchTimeoutMs: number;
  /** Called when initialization state changes without a response (an initial fetch timed out). */
  readonly onChange: () => void;
  /** Envoy's subscription stats (CDS and LDS; each EDS, RDS and SDS name). */
  readonly stats?: SubscriptionStats;
}

const byName = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

/** The types whose resources warm before they serve. */
export type WarmingType = typeof LISTENER_TYPE | typeof CLUSTER_TYPE;

/** Same names, same entry objects. */
function sameEntries(a: ReadonlyMap<string, AnyEntry>, b: ReadonlyMap<string, AnyEntry>): boolean {
  if (a.size !== b.size) return false;
  for (const [n, e] of a) if (b.get(n) !== e) return false;
  return true;
}

export class XdsState {
  readonly #types = new Map<ProxyTypeUrl, TypeRecord>();
  readonly #tables = new Map<ProxyTypeUrl, ResourceTable<ResourceByType[ProxyTypeUrl]>>();
  readonly #timers = new Set<{ cancel(): void }>();
  /**
   * Per type, the initial fetch timeout of each name whose config source sets one (EDS from the clusters'
   * eds_config, RDS from the connection managers' rds config_source); other names get the client's default.
   */
  readonly #fetchTimeouts = new Map<ProxyTypeUrl, ReadonlyMap<string, number>>();
  /** Per warming type, the versions serving traffic: replaced (not mutated) only when one changes. */
  readonly #active = new Map<WarmingType, ReadonlyMap<string, AnyEntry>>([
    [LISTENER_TYPE, new Map()],
    [CLUSTER_TYPE, new Map()],
  ]);
  /** Per warming type, accepted versions still waiting for what they name. */
  readonly #warming = new Map<WarmingType, ReadonlyMap<string, AnyEntry>>([
    [LISTENER_TYPE, new Map()],
    [CLUSTER_TYPE, new Map()],
  ]);

  constructor(private readonly o: XdsStateOptions) {
    for (const t of PROXY_TYPES) {
      this.#types.set(t, { version: '', received: false, names: [], lastError: undefined, pending: new Set() });
      this.#tables.set(t, new Map());
    }
  }

  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> {
    return this.#tables.get(type) as ResourceTable<ResourceByType[T]>;
  }

  #rec(t: ProxyTypeUrl): TypeRecord {
    return this.#types.get(t) as TypeRecord;
  }

  typeState(type: ProxyTypeUrl): TypeState {
    const s = this.#rec(type);
    return { version: s.version, received: s.received, names: [...s.names], ...(s.lastError !== undefined ? { lastError: s.lastError } : {}) };
  }

  /** Names subscribed explicitly (sorted); empty for the wildcard types. */
  names(type: ProxyTypeUrl): readonly string[] {
    return this.#rec(type).names;
  }

  /** Whether a resource of this name is wanted: wildcard types want all, others their subscribed names. */
  wants(type: ProxyTypeUrl, name: string): boolean {
    return isWildcardType(type) || this.#rec(type).names.includes(name);
  }

  /** The last accepted version_info of a type ('' before any). */
  version(type: ProxyTypeUrl): string {
    return this.#rec(type).version;
  }

  /** CDS and LDS have arrived, and every subscribed endpoint, route and secret name is answered (or timed out). */
  initialized(): boolean {
    if (!this.#rec(CLUSTER_TYPE).received || !this.#rec(LISTENER_TYPE).received) return false;
    return this.#rec(ENDPOINT_TYPE).pending.size === 0 && this.#rec(ROUTE_TYPE).pending.size === 0 && this.#rec(SECRET_TYPE).pending.size === 0;
  }

  /** What serves traffic reads: a type's accepted table, except listeners and clusters: their active versions. */
  servingTable<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> {
    return (this.#active.get(type as WarmingType) ?? this.table(type)) as ResourceTable<ResourceByType[T]>;
  }

  /** Accepted listener or cluster versions waiting for what they name (config_dump's warming state). */
  warming<T extends WarmingType>(type: T): ResourceTable<ResourceByType[T]> {
    return this.#warming.get(type) as ResourceTable<ResourceByType[T]>;
  }

  /**
   * Whether what a listener (RDS routes, ADS secrets) or a cluster (its EDS assignment, ADS secrets) names is
   * all answered or timed out.
   */
  #isWarm(type: WarmingType, m: Listener | Cluster): boolean {
    const secrets = this.#rec(SECRET_TYPE).pending;
    if (type === LISTENER_TYPE) {
      const routes = this.#rec(ROUTE_TYPE).pending;
      if (routes.size > 0 && rdsNamesOf([m as Listener]).some((n) => routes.has(n))) return false;
      return secrets.size === 0 || !listenerSecretNames(m as Listener).some((n) => secrets.has(n));
    }
    const endpoints = this.#rec(ENDPOINT_TYPE).pending;
    if (endpoints.size > 0 && edsNamesOf([m as Cluster]).some((n) => endpoints.has(n))) return false;
    return secrets.size === 0 || !clusterSecretNames(m as Cluster).some((n) => secrets.has(n));
  }

  /** Recomputes which versions serve: each accepted one once warm, else the one that served before it. */
  #rewarm(): void {
    for (const type of [CLUSTER_TYPE, LISTENER_TYPE] as const) {
      const before = this.#active.get(type) as ReadonlyMap<string, AnyEntry>;
      const active = new Map<string, AnyEntry>();
      const warming = new Map<string, AnyEntry>();
      for (const [name, e] of this.table(type)) {
        if (this.#isWarm(type, e.message)) {
          active.set(name, e);
          continue;
        }
        warming.set(name, e);
        const served = before.get(name);
        if (served !== undefined) active.set(name, served);
      }
      if (!sameEntries(active, before)) this.#active.set(type, active);
      if (!sameEntries(warming, this.#warming.get(type) as ReadonlyMap<string, AnyEntry>)) this.#warming.set(type, warming);
    }
  }

  /** The accepted resources of a type and the versions still serving while their successors warm. */
  #withServing<M extends Listener | Cluster>(type: WarmingType): M[] {
    const latest = this.table(type);
    const out = [...latest.values()].map((e) => e.message as M);
    for (const [name, e] of this.#active.get(type) as ReadonlyMap<string, AnyEntry>) if (latest.has(name) && latest.get(name) !== e) out.push(e.message as M);
    return out;
  }

  /** A response of `type` arrived carrying (or removing) `names`: they no longer hold initialization. */
  answered(type: ProxyTypeUrl, names: Iterable<string>): void {
    const s = this.#rec(type);
    s.received = true;
    for (const n of names) s.pending.delete(n);
  }

  /** A response was rejected: the table stays, the message is kept until an update is accepted. */
  reject(type: ProxyTypeUrl, message: string): void {
    this.#rec(type).lastError = message;
    this.o.stats?.rejected(type, this.#rec(type).names);
  }

  /**
   * Accepts a type's next table and version; follows the subscriptions it implies. `carried` are the
   * resources the update itself delivered (for the named types' stats; default: all of `next`). Returns the
   * types whose subscribed names changed (the caller tells the server).
   */
  accept(type: ProxyTypeUrl, next: ReadonlyMap<string, AnyEntry>, version: string, carried: ReadonlyMap<string, AnyEntry> = next): ProxyTypeUrl[] {
    const before = this.table(type);
    this.#tables.set(type, new Map([...next].sort(byName)));
    const s = this.#rec(type);
    s.version = version;
    s.lastError = undefined;
    const stats = this.o.stats;
    if (stats !== undefined) {
      const updated: UpdatedResource[] = [];
      if (!isWildcardType(type)) for (const [name, e] of carried) updated.push({ name, changed: !sameMessage(type, before.get(name)?.message, e.message) });
      stats.accepted(type, version, this.o.clock.now(), updated);
    }
    const changed: ProxyTypeUrl[] = [];
    const follow = (t: ProxyTypeUrl, names: string[]): void => {
      if (this.#subscribe(t, names)) changed.push(t);
    };
    // The accepted clusters and listeners, and the versions serving while their successors warm: those keep
    // their endpoints, routes and secrets subscribed (in Envoy they hold them until they are replaced).
    const clusters = (): Cluster[] => this.#withServing<Cluster>(CLUSTER_TYPE);
    const listeners = (): Listener[] => this.#withServing<Listener>(LISTENER_TYPE);
    if (type === CLUSTER_TYPE) {
      const cs = clusters();
      stats?.setScopes(ENDPOINT_TYPE, edsStatScopes(cs));
      this.#fetchTimeouts.set(ENDPOINT_TYPE, edsFetchTimeouts(cs, this.o.initialFetchTimeoutMs));
      follow(ENDPOINT_TYPE, edsNamesOf(cs));
    }
    if (type === LISTENER_TYPE) {
      const ls = listeners();
      stats?.setScopes(ROUTE_TYPE, rdsStatScopes(ls));
      this.#fetchTimeouts.set(ROUTE_TYPE, rdsFetchTimeouts(ls, this.o.initialFetchTimeoutMs));
      follow(ROUTE_TYPE, rdsNamesOf(ls));
    }
    if (type === CLUSTER_TYPE || type === LISTENER_TYPE) {
      const ls = listeners();
      const cs = clusters();
      this.#fetchTimeouts.set(SECRET_TYPE, fetchTimeouts(sdsRefsOf(ls, cs), this.o.initialFetchTimeoutMs));
      follow(SECRET_TYPE, sdsNamesOf(ls, cs));
    }
    // Only a CDS or LDS update makes something wait (it subscribes new names); an EDS, RDS or SDS update can
    // only end a wait. EDS updates are the frequent ones: with nothing warming they skip the walk.
    if (type === CLUSTER_TYPE || type === LISTENER_TYPE || this.#warming.get(CLUSTER_TYPE)?.size !== 0 || this.#warming.get(LISTENER_TYPE)?.size !== 0) this.#rewarm();
    return changed;
  }

  /** Sets a type's subscribed names (sorted); drops the entries of names no longer subscribed. */
  #subscribe(type: ProxyTypeUrl, names: string[]): boolean {
    const s = this.#rec(type);
    if (names.length === s.names.length && names.every((n, i) => n === s.names[i])) return false;
    const wanted = new Set(names);
    const old = new Set(s.names);
    s.names = names;
    for (const n of s.pending) if (!wanted.has(n)) s.pending.delete(n);
    const table = this.table(type);
    if ([...table.keys()].some((n) => !wanted.has(n))) this.#tables.set(type, new Map([...table].filter(([n]) => wanted.has(n))));
    const added = names.filter((n) => !old.has(n) && !table.has(n));
    for (const n of added) s.pending.add(n);
    if (added.length > 0) this.#startInitialFetchTimers(type, added);
    return true;
  }

  /** Starts the initial fetch timers of newly subscribed names: one per distinct timeout, none for 0 (wait forever). */
  #startInitialFetchTimers(type: ProxyTypeUrl, names: readonly string[]): void {
    const byTimeout = new Map<number, string[]>();
    const timeouts = this.#fetchTimeouts.get(type);
    for (const n of names) {
      const ms = timeouts?.get(n) ?? this.o.initialFetchTimeoutMs;
      if (ms <= 0) continue;
      const group = byTimeout.get(ms);
      if (group === undefined) byTimeout.set(ms, [n]);
      else group.push(n);
    }
    for (const [ms, group] of byTimeout) this.#startInitialFetchTimer(type, group, ms);
  }

  #startInitialFetchTimer(type: ProxyTypeUrl, names: readonly string[], timeoutMs: number): void {
    const timer = this.o.clock.setTimeout(() => {
      this.#timers.delete(timer);
      const s = this.#rec(type);
      const expired = names.filter((n) => s.pending.delete(n));
      if (expired.length === 0) return;
      this.o.stats?.fetchTimedOut(type, expired);
      this.o.logger.warn('xDS initial fetch timed out; initialization continues without them', { type: shortTypeName(type), names: expired, timeoutMs });
      this.#rewarm();
      this.o.onChange();
    }, timeoutMs);
    this.#timers.add(timer);
  }

  close(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
  }
}

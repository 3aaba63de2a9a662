// What the ADS client knows that outlives a stream, whichever protocol delivers it: per type the table of
// accepted resources (immutable, replaced whole on each accepted update), the last accepted version, the
// last rejection, and the names subscribed. Subscriptions follow the accepted config as Envoy's do: EDS for
// the EDS clusters, RDS for the HTTP connection managers' route names, SDS for the secrets the listeners'
// and clusters' TLS contexts name over ADS; CDS and LDS are wildcard. A name subscribed but not yet
// answered holds initialization (Envoy's init manager: clusters warm on their endpoints and secrets,
// listeners on their routes and secrets) until it is answered or its initial fetch times out
// (ConfigSource.initial_fetch_timeout, 15 s by default; 0 waits forever). No I/O here.

import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, shortTypeName } from '../../xds/type-urls.js';
import { edsNamesOf, PROXY_TYPES, rdsNamesOf, type ProxyTypeUrl, type ResourceByType } from './validate.js';
import { sdsNamesOf } from './secret-names.js';

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
}

const byName = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

export class XdsState {
  readonly #types = new Map<ProxyTypeUrl, TypeRecord>();
  readonly #tables = new Map<ProxyTypeUrl, ResourceTable<ResourceByType[ProxyTypeUrl]>>();
  readonly #timers = new Set<{ cancel(): void }>();

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

  /** A response of `type` arrived carrying (or removing) `names`: they no longer hold initialization. */
  answered(type: ProxyTypeUrl, names: Iterable<string>): void {
    const s = this.#rec(type);
    s.received = true;
    for (const n of names) s.pending.delete(n);
  }

  /** A response was rejected: the table stays, the message is kept until an update is accepted. */
  reject(type: ProxyTypeUrl, message: string): void {
    this.#rec(type).lastError = message;
  }

  /**
   * Accepts a type's next table and version; follows the subscriptions it implies. Returns the types whose
   * subscribed names changed (the caller tells the server).
   */
  accept(type: ProxyTypeUrl, next: ReadonlyMap<string, AnyEntry>, version: string): ProxyTypeUrl[] {
    this.#tables.set(type, new Map([...next].sort(byName)));
    const s = this.#rec(type);
    s.version = version;
    s.lastError = undefined;
    const changed: ProxyTypeUrl[] = [];
    const follow = (t: ProxyTypeUrl, names: string[]): void => {
      if (this.#subscribe(t, names)) changed.push(t);
    };
    const clusters = (): Cluster[] => [...this.table(CLUSTER_TYPE).values()].map((e) => e.message);
    const listeners = (): Listener[] => [...this.table(LISTENER_TYPE).values()].map((e) => e.message);
    if (type === CLUSTER_TYPE) follow(ENDPOINT_TYPE, edsNamesOf(clusters()));
    if (type === LISTENER_TYPE) follow(ROUTE_TYPE, rdsNamesOf(listeners()));
    if (type === CLUSTER_TYPE || type === LISTENER_TYPE) follow(SECRET_TYPE, sdsNamesOf(listeners(), clusters()));
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
    if (added.length > 0) this.#startInitialFetchTimer(type, added);
    return true;
  }

  #startInitialFetchTimer(type: ProxyTypeUrl, names: readonly string[]): void {
    if (this.o.initialFetchTimeoutMs <= 0) return;
    const timer = this.o.clock.setTimeout(() => {
      this.#timers.delete(timer);
      const s = this.#rec(type);
      const expired = names.filter((n) => s.pending.delete(n));
      if (expired.length === 0) return;
      this.o.logger.warn('xDS initial fetch timed out; initialization continues without them', { type: shortTypeName(type), names: expired, timeoutMs: this.o.initialFetchTimeoutMs });
      this.o.onChange();
    }, this.o.initialFetchTimeoutMs);
    this.#timers.add(timer);
  }

  close(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
  }
}

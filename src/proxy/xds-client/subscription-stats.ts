// Envoy's xDS subscription statistics (docs: configuration/overview/mgmt_server, "xDS subscription
// statistics"), and the management server's `control_plane.connected_state`. A rejected update (NACK) shows in
// update_rejected, so a scrape of the proxy tells what `isthmus proxy-status` tells: this proxy is refusing
// its config, and, for endpoints, routes and secrets, which of them.
// - update_attempt: responses handled (accepted or rejected), streams failed and initial fetches timed out;
//   update_success and update_rejected split the responses.
// - update_failure: streams that ended with an error (Envoy: "failed because of network errors").
// - init_fetch_timeout: initial fetches that timed out (the subscription's initial_fetch_timeout).
// - config_reload: accepted responses whose version differs from the last accepted one (CDS, LDS); for a
//   route configuration, accepted updates whose content differs from the last (Envoy compares the
//   configuration's hash), with config_reload_time_ms.
// - update_time (gauge): when the last update was accepted, in ms since the epoch.
// - version (gauge): a hash of the last accepted version_info. Envoy uses xxHash64; here it is 32-bit
//   FNV-1a (a gauge holds a double, and no tool reads the value, only whether it changed).
// Where they are counted, as Envoy scopes its subscriptions (GrpcSubscriptionImpl under ADS: one per
// watch; a response counts for the subscriptions whose resources it carries, a rejection for every
// subscription of its type, a failed stream for all):
// - CDS and LDS: `cluster_manager.cds.` and `listener_manager.lds.`.
// - EDS: the scope of each cluster that takes its endpoints from the name, `cluster.<alt_stat_name or name>.`.
// - RDS: `http.<stat_prefix>.rds.<route_config_name>.` of the first connection manager naming it.
// - SDS: `sds.<secret name>.`.

import type { Counter, Gauge } from '../stats/metric.js';
import type { StatsScope } from '../stats/stats-store.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import type { ProxyTypeUrl } from './validate.js';

interface Subscription {
  readonly attempt: Counter;
  readonly success: Counter;
  readonly rejected: Counter;
  readonly failure: Counter;
  readonly fetchTimeout: Counter;
  readonly time: Gauge;
  readonly version: Gauge;
  /** CDS/LDS: version changes; RDS: content changes (with its time); EDS and SDS have none. */
  readonly reload: Counter | undefined;
  readonly reloadTime: Gauge | undefined;
  lastVersion: string | undefined;
}

/** 32-bit FNV-1a over the string's UTF-16 code units. */
export function versionHash(version: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < version.length; i++) {
    h ^= version.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function subscription(s: StatsScope, reload: 'version' | 'content' | 'none'): Subscription {
  return {
    attempt: s.counter('update_attempt'),
    success: s.counter('update_success'),
    rejected: s.counter('update_rejected'),
    failure: s.counter('update_failure'),
    fetchTimeout: s.counter('init_fetch_timeout'),
    time: s.gauge('update_time'),
    version: s.gauge('version'),
    reload: reload !== 'none' ? s.counter('config_reload') : undefined,
    reloadTime: reload === 'content' ? s.gauge('config_reload_time_ms') : undefined,
    lastVersion: undefined,
  };
}

/** A resource of a named subscription in an accepted update: its name and whether its content changed. */
export interface UpdatedResource {
  readonly name: string;
  readonly changed: boolean;
}

type NamedType = typeof ENDPOINT_TYPE | typeof ROUTE_TYPE | typeof SECRET_TYPE;
const isNamed = (t: ProxyTypeUrl): t is NamedType => t === ENDPOINT_TYPE || t === ROUTE_TYPE || t === SECRET_TYPE;

export class SubscriptionStats {
  readonly #wildcard = new Map<ProxyTypeUrl, Subscription>();
  /** Per named type, each resource name's stats scopes (EDS and RDS: from the clusters and listeners). */
  readonly #scopes = new Map<NamedType, ReadonlyMap<string, readonly string[]>>();
  /** The named subscriptions by scope prefix, made on first use and kept (their counters keep counting). */
  readonly #named = new Map<string, Subscription>();
  readonly #connected: Gauge;

  constructor(private readonly stats: StatsScope) {
    this.#connected = stats.gauge('control_plane.connected_state');
    this.#wildcard.set(CLUSTER_TYPE, subscription(stats.scope('cluster_manager.cds'), 'version'));
    this.#wildcard.set(LISTENER_TYPE, subscription(stats.scope('listener_manager.lds'), 'version'));
  }

  /** Where the stats of each EDS or RDS name go (edsStatScopes, rdsStatScopes), as the config now says. */
  setScopes(type: typeof ENDPOINT_TYPE | typeof ROUTE_TYPE, scopes: ReadonlyMap<string, readonly string[]>): void {
    this.#scopes.set(type, scopes);
  }

  #scopesOf(type: NamedType, name: string): readonly string[] {
    if (type === SECRET_TYPE) return [`sds.${name}`];
    return this.#scopes.get(type)?.get(name) ?? [];
  }

  /** The subscriptions a resource's events count in. */
  *#of(type: NamedType, name: string): Generator<Subscription> {
    for (const prefix of this.#scopesOf(type, name)) {
      let s = this.#named.get(prefix);
      if (s === undefined) {
        s = subscription(this.stats.scope(prefix), type === ROUTE_TYPE ? 'content' : 'none');
        this.#named.set(prefix, s);
      }
      yield s;
    }
  }

  /** An update of `type` was accepted; for endpoints, routes and secrets, `updated` are the resources it carried. */
  accepted(type: ProxyTypeUrl, version: string, nowMs: number, updated: Iterable<UpdatedResource> = []): void {
    const w = this.#wildcard.get(type);
    if (w !== undefined) {
      success(w, version, nowMs);
      if (w.lastVersion !== version) w.reload?.inc();
      w.lastVersion = version;
      return;
    }
    if (!isNamed(type)) return;
    for (const r of updated) {
      for (const s of this.#of(type, r.name)) {
        success(s, version, nowMs);
        if (r.changed && s.reload !== undefined) {
          s.reload.inc();
          s.reloadTime?.set(nowMs);
        }
      }
    }
  }

  /** An update of `type` was rejected; `subscribed` are the type's names (every subscription of the type counts it). */
  rejected(type: ProxyTypeUrl, subscribed: Iterable<string> = []): void {
    const w = this.#wildcard.get(type);
    if (w !== undefined) return void failed(w, w.rejected);
    if (!isNamed(type)) return;
    for (const n of subscribed) for (const s of this.#of(type, n)) failed(s, s.rejected);
  }

  /** The initial fetch of these names timed out. */
  fetchTimedOut(type: ProxyTypeUrl, names: Iterable<string>): void {
    const w = this.#wildcard.get(type);
    if (w !== undefined) return void failed(w, w.fetchTimeout);
    if (!isNamed(type)) return;
    for (const n of names) for (const s of this.#of(type, n)) failed(s, s.fetchTimeout);
  }

  /** The ADS stream is up (a response arrived) or ended. */
  connection(up: boolean): void {
    this.#connected.set(up ? 1 : 0);
  }

  /** A stream ended with an error: every subscription's fetch failed (`subscribed`: the named types' names). */
  streamFailed(subscribed: ReadonlyMap<ProxyTypeUrl, Iterable<string>> = new Map()): void {
    for (const s of this.#wildcard.values()) failed(s, s.failure);
    for (const [type, names] of subscribed) {
      if (!isNamed(type)) continue;
      for (const n of names) for (const s of this.#of(type, n)) failed(s, s.failure);
    }
  }
}

function success(s: Subscription, version: string, nowMs: number): void {
  s.attempt.inc();
  s.success.inc();
  s.time.set(nowMs);
  s.version.set(versionHash(version));
}

function failed(s: Subscription, reason: Counter): void {
  s.attempt.inc();
  reason.inc();
}

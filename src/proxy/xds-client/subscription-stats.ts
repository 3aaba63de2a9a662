// Envoy's xDS subscription statistics for the wildcard subscriptions, under `cluster_manager.cds.` and
// `listener_manager.lds.` (docs: configuration/overview/mgmt_server, "xDS subscription statistics"), and the
// management server's `control_plane.connected_state`. A rejected update (NACK) shows in update_rejected, so
// a scrape of the proxy tells what `isthmus proxy-status` tells: this proxy is refusing its config.
// - update_attempt: responses handled (accepted or rejected); update_success and update_rejected split them.
// - update_failure: streams that ended with an error (Envoy: "failed because of network errors").
// - config_reload: accepted responses whose version differs from the last accepted one.
// - update_time (gauge): when the last update was accepted, in ms since the epoch.
// - version (gauge): a hash of the last accepted version_info. Envoy uses xxHash64; here it is 32-bit
//   FNV-1a (a gauge holds a double, and no tool reads the value, only whether it changed).
// Endpoint, route and secret subscriptions have per-resource scopes in Envoy (`cluster.<name>.`,
// `http.<prefix>.rds.<name>.`, `sds.<name>.`); they are not counted here.

import type { Counter, Gauge } from '../stats/metric.js';
import type { StatsScope } from '../stats/stats-store.js';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../../xds/type-urls.js';
import type { ProxyTypeUrl } from './validate.js';

interface Subscription {
  readonly attempt: Counter;
  readonly success: Counter;
  readonly rejected: Counter;
  readonly failure: Counter;
  readonly reload: Counter;
  readonly time: Gauge;
  readonly version: Gauge;
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

export class SubscriptionStats {
  readonly #subs = new Map<ProxyTypeUrl, Subscription>();
  readonly #connected: Gauge;

  constructor(stats: StatsScope) {
    this.#connected = stats.gauge('control_plane.connected_state');
    for (const [type, prefix] of [
      [CLUSTER_TYPE, 'cluster_manager.cds'],
      [LISTENER_TYPE, 'listener_manager.lds'],
    ] as const) {
      const s = stats.scope(prefix);
      this.#subs.set(type, {
        attempt: s.counter('update_attempt'),
        success: s.counter('update_success'),
        rejected: s.counter('update_rejected'),
        failure: s.counter('update_failure'),
        reload: s.counter('config_reload'),
        time: s.gauge('update_time'),
        version: s.gauge('version'),
        lastVersion: undefined,
      });
    }
  }

  accepted(type: ProxyTypeUrl, version: string, nowMs: number): void {
    const s = this.#subs.get(type);
    if (s === undefined) return;
    s.attempt.inc();
    s.success.inc();
    if (s.lastVersion !== version) s.reload.inc();
    s.lastVersion = version;
    s.time.set(nowMs);
    s.version.set(versionHash(version));
  }

  rejected(type: ProxyTypeUrl): void {
    const s = this.#subs.get(type);
    if (s === undefined) return;
    s.attempt.inc();
    s.rejected.inc();
  }

  /** The ADS stream is up (a response arrived) or ended. */
  connection(up: boolean): void {
    this.#connected.set(up ? 1 : 0);
  }

  /** A stream ended with an error: each subscription's fetch failed. */
  streamFailed(): void {
    for (const s of this.#subs.values()) {
      s.attempt.inc();
      s.failure.inc();
    }
  }
}

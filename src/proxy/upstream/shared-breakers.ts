// Circuit breaker limits shared by the worker processes of `isthmus proxy --concurrency N`. Envoy counts each
// breaker resource in atomics every worker thread shares, so a limit caps the whole proxy ("This bound
// applies to the sum of connections across all workers threads":
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking). Worker
// processes share no memory, so the primary keeps a ledger of the units of each (cluster, resource) every
// worker holds and never grants more than the limit in all (workers/breaker-ledger.ts); a worker asks it
// synchronously, on its blocking channel to the primary (workers/wasm-shared-channel.ts, about 65 µs a
// round trip), only when every unit it holds is in use.
// To ask rarely under load, a worker borrows a few units at a time and keeps a few idle: with limit L and N
// workers it keeps `floor(L / (32 N))` and gives units back once it holds twice that many idle. So the proxy
// never exceeds a limit; near one, a request may be refused while other workers hold idle units (at most
// L / 16 in all). Under 32 N (Istio's `maxConnections: 1`, say) a worker keeps nothing idle and every
// acquire and release is a round trip, which is exact. Limits of 2^31 or more (Istio sets 2^32 - 1 where a
// DestinationRule sets none) and retry budgets (a limit that follows the worker's own load) stay per
// worker, with no round trips.

import type { BreakerLimits, BreakerResource, ProxyWideUnits } from './circuit-breakers.js';

/** The primary's ledger as a worker reaches it. Resources are numbered by BREAKER_RESOURCES. */
export interface BreakerLedgerClient {
  /** Takes up to `want` units of `resource` under `key` (limit `limit` for the whole proxy); answers how many it got. */
  borrow(key: string, resource: number, want: number, limit: number): number;
  /** Hands back `count` units taken by borrow. */
  giveBack(key: string, resource: number, count: number): void;
}

export const BREAKER_RESOURCES: readonly BreakerResource[] = ['connections', 'pending', 'requests', 'retries'];

/** Limits from here up are not shared (each worker enforces them alone). */
export const UNSHARED_LIMIT = 2 ** 31;

function indexOf(r: BreakerResource): number {
  return r === 'connections' ? 0 : r === 'pending' ? 1 : r === 'requests' ? 2 : 3;
}

/** One cluster's units in one worker: what it holds of the proxy-wide limits, and how many are in use. */
export class SharedAllowance implements ProxyWideUnits {
  readonly #held = [0, 0, 0, 0];
  readonly #used = [0, 0, 0, 0];
  readonly #keep: readonly number[];
  readonly #shared: readonly boolean[];
  readonly #limit: readonly number[];
  #closed = false;

  /** `key` names the cluster and its limits alike in every worker. */
  constructor(
    private readonly key: string,
    limits: BreakerLimits,
    workers: number,
    private readonly ledger: BreakerLedgerClient,
  ) {
    this.#limit = BREAKER_RESOURCES.map((r) => limits[r]);
    this.#shared = BREAKER_RESOURCES.map((r) => workers > 1 && limits[r] < UNSHARED_LIMIT && !(r === 'retries' && limits.retryBudget !== undefined));
    this.#keep = this.#limit.map((l) => Math.floor(l / (32 * workers)));
  }

  /** Whether `r` is counted for the whole proxy. */
  isShared(r: BreakerResource): boolean {
    return this.#shared[indexOf(r)] === true;
  }

  /** One unit of `r`; false when every unit the limit allows is in use somewhere in the proxy. */
  take(r: BreakerResource): boolean {
    const i = indexOf(r);
    if (this.#shared[i] !== true) return true;
    const used = this.#used[i] as number;
    if (used >= (this.#held[i] as number)) {
      this.#held[i] = (this.#held[i] as number) + this.ledger.borrow(this.key, i, (this.#keep[i] as number) + 1, this.#limit[i] as number);
      if (used >= (this.#held[i] as number)) return false;
    }
    this.#used[i] = used + 1;
    return true;
  }

  /** Returns a unit `take(r)` gave. */
  put(r: BreakerResource): void {
    const i = indexOf(r);
    if (this.#shared[i] !== true || (this.#used[i] as number) === 0) return;
    this.#used[i] = (this.#used[i] as number) - 1;
    const keep = this.#closed ? 0 : (this.#keep[i] as number);
    const idle = (this.#held[i] as number) - (this.#used[i] as number);
    if (idle > 2 * keep) this.#giveBack(i, idle - keep);
  }

  /** The cluster was replaced or removed: idle units go back now, the rest as they are returned. */
  close(): void {
    this.#closed = true;
    for (let i = 0; i < BREAKER_RESOURCES.length; i++) {
      const idle = (this.#held[i] as number) - (this.#used[i] as number);
      if (idle > 0) this.#giveBack(i, idle);
    }
  }

  #giveBack(i: number, n: number): void {
    this.#held[i] = (this.#held[i] as number) - n;
    this.ledger.giveBack(this.key, i, n);
  }
}

/** The ledger key of a cluster's breakers: its name and limits (a cluster whose limits change starts afresh, as Envoy's new cluster does). */
export function allowanceKey(cluster: string, limits: BreakerLimits): string {
  return `${cluster}|${limits.connections},${limits.pending},${limits.requests},${limits.retries}`;
}

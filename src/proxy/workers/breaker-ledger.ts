// The primary's ledger of circuit breaker units with `--concurrency N` (upstream/shared-breakers.ts says
// why and how workers use it): for each cluster key and resource, how many units each worker holds. A
// borrow is granted only up to the limit minus what all workers hold, so the proxy as a whole never goes
// above a limit, as Envoy's shared resource counts never do. A worker that goes away (its channel closes)
// gives back everything it held. Answered on the primary's thread, one request at a time, so no two
// workers can both take the last unit.

import type { BreakerLedgerClient } from '../upstream/shared-breakers.js';
import type { SharedStoreTransport } from '../wasm/remote-shared-store.js';
import { SharedOp, decodeSharedResponse, encodeSharedRequest } from '../wasm/shared-store-protocol.js';

/** Who holds units: one per worker channel. */
export type LedgerHolder = object;

interface Account {
  total: number;
  readonly byHolder: Map<LedgerHolder, number>;
}

export class BreakerLedger {
  readonly #accounts = new Map<string, Account>();

  /** Grants up to `want` units of `resource` under `key` to `holder`, never past `limit` held in all. */
  borrow(holder: LedgerHolder, key: string, resource: number, want: number, limit: number): number {
    const id = `${resource}\u0000${key}`;
    let a = this.#accounts.get(id);
    const got = Math.max(0, Math.min(want, limit - (a?.total ?? 0)));
    if (got === 0) return 0;
    if (a === undefined) {
      a = { total: 0, byHolder: new Map() };
      this.#accounts.set(id, a);
    }
    a.total += got;
    a.byHolder.set(holder, (a.byHolder.get(holder) ?? 0) + got);
    return got;
  }

  /** Takes back up to `count` units `holder` holds (never more than it holds). */
  giveBack(holder: LedgerHolder, key: string, resource: number, count: number): void {
    const id = `${resource}\u0000${key}`;
    const a = this.#accounts.get(id);
    const held = a?.byHolder.get(holder);
    if (a === undefined || held === undefined) return;
    const n = Math.min(held, Math.max(0, count));
    a.total -= n;
    if (held === n) a.byHolder.delete(holder);
    else a.byHolder.set(holder, held - n);
    if (a.byHolder.size === 0) this.#accounts.delete(id);
  }

  /** Everything `holder` held goes back (its worker exited). */
  drop(holder: LedgerHolder): void {
    for (const [id, a] of this.#accounts) {
      const held = a.byHolder.get(holder);
      if (held === undefined) continue;
      a.total -= held;
      a.byHolder.delete(holder);
      if (a.byHolder.size === 0) this.#accounts.delete(id);
    }
  }

  /** Units of `resource` under `key` held by all workers. */
  held(key: string, resource: number): number {
    return this.#accounts.get(`${resource}\u0000${key}`)?.total ?? 0;
  }
}

/**
 * A worker's way to the primary's ledger: the blocking channel's round trip. If the channel is gone (the
 * primary is exiting, and the worker with it), a borrow gets what it asked, so the worker's own limit holds.
 */
export function ledgerClient(channel: SharedStoreTransport): BreakerLedgerClient {
  return {
    borrow(key, resource, count, limit) {
      const body = channel.call(encodeSharedRequest({ op: SharedOp.BREAKER_BORROW, key, resource, count, limit }));
      const r = body === undefined ? undefined : decodeSharedResponse(body);
      return r === undefined ? count : Math.min(count, r.num);
    },
    giveBack(key, resource, count) {
      channel.call(encodeSharedRequest({ op: SharedOp.BREAKER_GIVE_BACK, key, resource, count }));
    },
  };
}

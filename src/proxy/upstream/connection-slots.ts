// HTTP/1.1 connection admission for one cluster, after Envoy's connection pools
// (source/common/conn_pool/conn_pool_base.cc newStreamImpl / onUpstreamReady) and
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking:
// an HTTP/1.1 connection carries one request at a time, the connections breaker (max_connections) caps
// how many the cluster may use, and a request that finds none free waits as a pending request, which the
// pending breaker (max_pending_requests) caps; past that the request overflows (503, UO,
// x-envoy-overloaded). A freed connection goes to the oldest pending request, in arrival order.
// Connections here are busy connections: idle keep-alive sockets live in the undici pools and cost nothing.
// This class only counts; it never opens sockets.

import type { CircuitBreakers } from './circuit-breakers.js';

export type SlotGrant = 'ready' | 'pending' | 'overflow';

export class ConnectionSlots {
  /** Waiting requests in arrival order (a Set keeps insertion order and cancels in O(1)). */
  readonly #pending = new Set<() => void>();

  constructor(
    private readonly breakers: CircuitBreakers,
    /** Told each time a request finds every connection the breaker allows busy (Envoy's upstream_cx_overflow). */
    private readonly onConnectionOverflow: () => void = () => undefined,
  ) {}

  /**
   * A connection for one request: 'ready' (use it now), 'pending' (`onReady` is called once one frees up,
   * unless `release(onReady)` cancels first) or 'overflow' (the pending breaker is open).
   */
  acquire(onReady: () => void): SlotGrant {
    if (this.#pending.size === 0 && this.breakers.tryAcquire('connections')) return 'ready';
    this.onConnectionOverflow();
    if (!this.breakers.tryAcquire('pending')) return 'overflow';
    this.#pending.add(onReady);
    return 'pending';
  }

  /** Ends what `acquire(onReady)` granted: cancels a pending wait, or frees the connection for the next waiter. */
  release(onReady: () => void): void {
    if (this.#pending.delete(onReady)) {
      this.breakers.release('pending');
      return;
    }
    const next = this.#pending.values().next();
    if (next.done === true) {
      this.breakers.release('connections');
      return;
    }
    // The connection passes straight to the oldest waiter: the connections count does not change.
    this.#pending.delete(next.value);
    this.breakers.release('pending');
    next.value();
  }

  get pendingCount(): number {
    return this.#pending.size;
  }
}

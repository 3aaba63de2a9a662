// Envoy's per-worker listener stats, `listener.<address>.worker_<id>.downstream_cx_total` and
// `downstream_cx_active` (https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/stats#per-handler-listener-stats):
// how a multi-worker proxy shows which worker took each connection. Connections are seen through Node's
// `net.server.socket` diagnostics channel, published for every connection a server in this process
// accepts, so the listener manager needs no hook; in a worker the only accepting servers are listeners.
// `<address>` is what the caller names for the local address (the listener's configured address and
// port, or its stat_prefix); handles are cached per local address until the config changes.

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Socket } from 'node:net';
import type { StatsStore } from '../stats/stats-store.js';
import type { Counter, Gauge } from '../stats/metric.js';

const CHANNEL = 'net.server.socket';

interface Handles {
  readonly total: Counter;
  readonly active: Gauge;
}

export class WorkerListenerStats {
  readonly #cache = new Map<string, Handles>();
  readonly #onSocket = (m: unknown): void => this.#count(m);

  constructor(
    private readonly stats: StatsStore,
    private readonly slot: number,
    /** The `<address>` segment for a connection accepted on localAddress:localPort. */
    private readonly statNameOf: (localAddress: string, localPort: number) => string,
  ) {}

  start(): void {
    subscribe(CHANNEL, this.#onSocket);
  }

  stop(): void {
    unsubscribe(CHANNEL, this.#onSocket);
  }

  /** Listener names may have changed: look them up again on the next connection. */
  invalidate(): void {
    this.#cache.clear();
  }

  #count(m: unknown): void {
    const socket = typeof m === 'object' && m !== null && 'socket' in m ? m.socket : undefined;
    if (!(socket instanceof Socket)) return;
    const address = socket.localAddress ?? '';
    const port = socket.localPort ?? 0;
    const key = `${address}:${port}`;
    let h = this.#cache.get(key);
    if (h === undefined) {
      const prefix = `listener.${this.statNameOf(address, port)}.worker_${this.slot}`;
      h = { total: this.stats.counter(`${prefix}.downstream_cx_total`), active: this.stats.gauge(`${prefix}.downstream_cx_active`) };
      this.#cache.set(key, h);
    }
    const { total, active } = h;
    total.inc();
    active.inc();
    socket.once('close', () => active.dec());
  }
}

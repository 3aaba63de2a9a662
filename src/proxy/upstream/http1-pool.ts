// The HTTP/1.1 connection pool to one upstream host (Envoy's HTTP/1.1 conn pool): keep-alive connections
// reused most-recently-freed first, at most max_connections of them (the cluster's circuit-breaker
// threshold), a request waiting in arrival order when all are busy, max_requests_per_connection (the last
// request says `connection: close`), the cluster's connect timeout, and idle connections closed after the
// cluster's idle_timeout or, sooner, the server's `Keep-Alive: timeout` hint less a safety margin (as
// undici does), so a request is not sent on a connection the server is about to close. The router's
// connection slots already hold HTTP/1.1 requests to max_connections; this pool only multiplexes sockets.

import type { DispatchHandler, DispatchRequest, UpstreamDispatcher } from './cluster-handle.js';
import { codedError, Exchange, Http1Connection, type ConnectionOwner, type Http1ConnectionOptions } from './http1-connection.js';

export interface Http1PoolOptions extends Http1ConnectionOptions {
  readonly maxConnections: number;
  /** Requests per connection; undefined = unlimited (Envoy's max_requests_per_connection). */
  readonly maxRequestsPerConnection: number | undefined;
  /** Idle connections are closed after this long (the cluster's common idle_timeout). */
  readonly idleTimeoutMs: number;
  /**
   * common max_connection_duration: a connection this old carries no new request; it closes once its
   * request ends, or at once when idle (Envoy's onConnectionDurationTimeout drains it).
   */
  readonly maxConnectionDurationMs?: number;
}

/** A server's keep-alive hint is trusted only down to this margin (undici's keepAliveTimeoutThreshold). */
const KEEP_ALIVE_MARGIN_MS = 2_000;
const SWEEP_MS = 1_000;

export class Http1Pool implements UpstreamDispatcher, ConnectionOwner {
  /** Free connections, most recently freed last. */
  readonly #idle: Http1Connection[] = [];
  readonly #all = new Set<Http1Connection>();
  readonly #queue: Exchange[] = [];
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;
  #onEmpty: (() => void) | undefined;
  readonly #abandon = (x: Exchange): void => {
    const i = this.#queue.indexOf(x);
    if (i >= 0) this.#queue.splice(i, 1);
  };

  constructor(private readonly o: Http1PoolOptions) {}

  dispatch(req: DispatchRequest, handler: DispatchHandler): boolean {
    if (this.#closed) {
      handler.onResponseError(undefined, codedError('pool closed', 'UND_ERR_DESTROYED'));
      return false;
    }
    const x = new Exchange(req, handler, this.#abandon);
    handler.onRequestStart(x);
    if (x.done) return false;
    const c = this.#takeIdle();
    if (c !== undefined) {
      this.#mark(c);
      c.start(x);
    } else if (this.#all.size < this.o.maxConnections) this.#open(x);
    else this.#queue.push(x);
    return true;
  }

  #open(x: Exchange): void {
    let c: Http1Connection;
    try {
      c = new Http1Connection(this.o, this, x);
    } catch (e) {
      x.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.#all.add(c);
    this.#mark(c);
  }

  /** Flags the request about to start as the connection's last when the per-connection limit is reached. */
  #mark(c: Http1Connection): void {
    const max = this.o.maxRequestsPerConnection;
    if (max !== undefined && c.requests + 1 >= max) c.last = true;
  }

  #deadline(c: Http1Connection): number {
    const hint = c.keepAliveHintMs > 0 ? c.keepAliveHintMs - KEEP_ALIVE_MARGIN_MS : Number.POSITIVE_INFINITY;
    return c.idleSince + Math.min(this.o.idleTimeoutMs > 0 ? this.o.idleTimeoutMs : Number.POSITIVE_INFINITY, hint);
  }

  /** Past max_connection_duration: counted once, and the connection is not reused. */
  #expired(c: Http1Connection, now: number): boolean {
    const max = this.o.maxConnectionDurationMs;
    if (max === undefined || now - c.openedAt < max) return false;
    if (!c.last) {
      c.last = true;
      this.o.events?.maxDurationReached?.();
    }
    return true;
  }

  #takeIdle(): Http1Connection | undefined {
    const idle = this.#idle;
    if (idle.length === 0) return undefined;
    const now = Date.now();
    while (idle.length > 0) {
      const c = idle.pop() as Http1Connection;
      if (!c.closed && this.#deadline(c) > now && !this.#expired(c, now)) return c;
      c.destroy();
    }
    return undefined;
  }

  onFree(c: Http1Connection): void {
    if (this.#closed || this.#expired(c, Date.now())) {
      c.destroy();
      return;
    }
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#mark(c);
      c.start(next);
      return;
    }
    c.idleSince = Date.now();
    if (this.#deadline(c) <= c.idleSince) {
      c.destroy();
      return;
    }
    this.#idle.push(c);
    if (this.#sweep === undefined) {
      this.#sweep = setInterval(() => this.#sweepIdle(), SWEEP_MS);
      this.#sweep.unref();
    }
  }

  onClosed(c: Http1Connection): void {
    this.#all.delete(c);
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    if (!this.#closed && this.#queue.length > 0 && this.#all.size < this.o.maxConnections) this.#open(this.#queue.shift() as Exchange);
    if (this.#all.size === 0) {
      this.#stopSweep();
      this.#onEmpty?.();
    }
  }

  #sweepIdle(): void {
    const now = Date.now();
    for (const c of [...this.#idle]) if (this.#deadline(c) <= now || this.#expired(c, now)) c.destroy();
    if (this.#idle.length === 0) this.#stopSweep();
  }

  #stopSweep(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** Connections open (busy or idle). */
  get size(): number {
    return this.#all.size;
  }

  /** Fails waiting requests, closes idle connections now and busy ones when their request ends. */
  close(): Promise<void> {
    this.#closed = true;
    for (const x of this.#queue.splice(0)) x.fail(codedError('pool closed', 'UND_ERR_DESTROYED'));
    for (const c of this.#idle.splice(0)) c.destroy();
    this.#stopSweep();
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#onEmpty = resolve));
  }
}

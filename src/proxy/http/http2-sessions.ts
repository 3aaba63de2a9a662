// The connection manager's HTTP/2 connections (sessions): their idle timeout and Envoy's drain sequence.
//
// Drain (ConnectionManagerImpl::startDrainSequence, HttpConnectionManager drain_timeout): a draining
// connection first gets a shutdown notice, a GOAWAY naming the largest stream ID (2^31-1), so the client
// stops opening streams while those already racing toward the proxy are still served; drain_timeout later
// (5 s by default) the final GOAWAY names the last stream processed, streams above it are refused, and the
// connection closes once its streams are done. It starts when the listener drains, and when a connection
// has had no stream for the idle timeout (common_http_protocol_options.idle_timeout, 1 h by default;
// ConnectionManagerImpl::onIdleTimeout, counted in downstream_cx_idle_timeout), at
// common_http_protocol_options.max_connection_duration (onConnectionDurationTimeout,
// downstream_cx_max_duration_reached) and with the stream that reaches max_requests_per_connection
// (newStream, downstream_cx_max_requests_reached, counted for that stream and every later one), as Envoy's does.
// Idleness is checked on the connection manager's one-second sweep, not with a timer per connection.

import { constants, type ServerHttp2Session } from 'node:http2';

const MAX_STREAM_ID = 2 ** 31 - 1;

/** Starts the drain sequence on `s` (once; a session already closing is left alone). */
export function drainHttp2Session(s: ServerHttp2Session, drainTimeoutMs: number): void {
  if (s.closed || s.destroyed || draining.has(s)) return;
  draining.add(s);
  s.goaway(constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
  const timer = setTimeout(() => {
    if (s.closed || s.destroyed) return;
    s.goaway(constants.NGHTTP2_NO_ERROR);
    s.close();
  }, drainTimeoutMs);
  timer.unref();
  s.once('close', () => clearTimeout(timer));
}

const draining = new WeakSet<ServerHttp2Session>();

/** A session's streams in progress, the sweep tick since which it has had none (-1: it has some), its streams so far and when it started. */
interface SessionState {
  active: number;
  idleSince: number;
  requests: number;
  readonly born: number;
}

export interface Http2SessionsOptions {
  readonly drainTimeoutMs: number;
  /** Sweeps a session may go without a stream before it drains; 0: never. */
  readonly idleTicks: number;
  /** Sweeps a session may live before it drains (max_connection_duration); 0: no limit. */
  readonly maxDurationTicks: number;
  /** Streams after which a session drains (max_requests_per_connection); 0: no limit. */
  readonly maxRequests: number;
  /** The sweep clock. */
  readonly clock: { readonly tick: number };
  /** Told why a session drains (the connection manager's stats). */
  readonly events: { onIdleTimeout(): void; onMaxDurationReached(): void; onMaxRequestsReached(): void };
}

/** The open sessions of one connection manager. */
export class Http2Sessions {
  readonly #live = new Map<ServerHttp2Session, SessionState>();
  #draining = false;

  constructor(private readonly o: Http2SessionsOptions) {}

  get size(): number {
    return this.#live.size;
  }

  add(s: ServerHttp2Session): void {
    this.#live.set(s, { active: 0, idleSince: this.o.clock.tick, requests: 0, born: this.o.clock.tick });
    s.once('close', () => this.#live.delete(s));
    if (this.#draining) drainHttp2Session(s, this.o.drainTimeoutMs);
  }

  /** A stream of `s` started; `streamEnded` must follow once it is over. */
  streamStarted(s: ServerHttp2Session): void {
    const st = this.#live.get(s);
    if (st === undefined) return;
    st.active++;
    st.idleSince = -1;
    const max = this.o.maxRequests;
    if (max > 0 && ++st.requests >= max) {
      this.o.events.onMaxRequestsReached();
      drainHttp2Session(s, this.o.drainTimeoutMs);
    }
  }

  streamEnded(s: ServerHttp2Session): void {
    const st = this.#live.get(s);
    if (st === undefined || st.active === 0) return;
    if (--st.active === 0) st.idleSince = this.o.clock.tick;
  }

  /** Drains the sessions idle for the idle timeout, or as old as max_connection_duration. */
  sweep(now: number): void {
    const t = this.o.idleTicks;
    const d = this.o.maxDurationTicks;
    if (t === 0 && d === 0) return;
    for (const [s, st] of this.#live) {
      if (draining.has(s)) continue;
      if (d > 0 && now - st.born >= d) this.o.events.onMaxDurationReached();
      else if (t > 0 && st.idleSince >= 0 && now - st.idleSince > t) this.o.events.onIdleTimeout();
      else continue;
      drainHttp2Session(s, this.o.drainTimeoutMs);
    }
  }

  drain(): void {
    this.#draining = true;
    for (const s of this.#live.keys()) drainHttp2Session(s, this.o.drainTimeoutMs);
  }

  destroy(): void {
    for (const s of [...this.#live.keys()]) s.destroy();
  }
}

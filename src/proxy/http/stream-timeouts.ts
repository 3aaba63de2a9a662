// The connection manager's per-stream timeouts (source/common/http/conn_manager_impl.cc, ActiveStream):
// - stream_idle_timeout (HttpConnectionManager; Envoy's default 5 min, 0 disables; a route's idle_timeout
//   replaces it for the streams the route takes, 0 disabling it): nothing in either direction for that long
//   (onIdleTimeout).
// - the stream's maximum duration (refreshDurationTimeout): the route's max_stream_duration.max_stream_duration
//   (0: none), else the connection manager's common_http_protocol_options.max_stream_duration; with the route's
//   grpc_timeout_header_max set, a gRPC client's grpc-timeout instead (capped at the maximum unless that is 0,
//   less grpc_timeout_header_offset). On such a route ("new timeouts") a gRPC request's grpc-timeout goes
//   upstream as that timeout. Counted from the stream's start (onStreamMaxDurationReached).
// Either ends the stream as Envoy's sendLocalReply does: before the response has started, its upstream work is
// cancelled and the client gets 408 (504 once the whole request had arrived: maybeRequestTimeoutCode) with
// `stream timeout` (details stream_idle_timeout, flag SI, http.<prefix>.downstream_rq_idle_timeout) or
// `downstream duration timeout` (details max_duration_timeout, gRPC status DEADLINE_EXCEEDED,
// http.<prefix>.downstream_rq_max_duration_reached); after it, the stream is reset.
// The idle timer is not re-armed on every read and write, nor made per stream: reads and writes bump
// HttpStream.activity, and one sweep per connection manager, every quarter of the shortest idle timeout among
// its streams, ends the streams whose count has not moved for their timeout: between 1 and 1.25 timeouts after
// the last activity (Envoy's own TODO in resetIdleTimer suggests as much). Upgraded streams (tunnels) have neither.

import type { Counter } from '../stats/metric.js';
import type { HttpStream } from './http-stream.js';
import type { HeaderMap } from './headers.js';
import { formatGrpcTimeout, parseGrpcTimeout } from './grpc-timeout.js';
import { isGrpcRequest } from './local-reply.js';
import { ResponseFlag } from './response-flags.js';

/** The route's side (RouteActionPolicy's fields; undefined when the stream has no forwarding route). */
export interface DurationRoute {
  readonly newTimeouts: boolean;
  readonly idleTimeoutMs: number | undefined;
  readonly maxStreamDurationMs: number | undefined;
  readonly grpcTimeoutHeaderMaxMs: number | undefined;
  readonly grpcTimeoutHeaderOffsetMs: number | undefined;
}

export interface StreamTimeoutSettings {
  /** The connection manager's stream_idle_timeout (0: none). */
  readonly streamIdleTimeoutMs: number;
  /** The connection manager's common_http_protocol_options.max_stream_duration (0: none). */
  readonly maxStreamDurationMs: number;
}

export interface StreamTimeoutCounters {
  readonly rqIdleTimeout: Counter;
  readonly rqMaxDurationReached: Counter;
}

/** Sweeps per (shortest) idle timeout. */
const IDLE_CHECKS = 4;

/** refreshDurationTimeout: the stream's maximum duration in ms (undefined: none); sets grpc-timeout on a new-timeouts route. */
export function streamDurationMs(route: DurationRoute | undefined, hcm: StreamTimeoutSettings, h: HeaderMap): number | undefined {
  const grpc = parseGrpcTimeout(h['grpc-timeout']);
  let t: number;
  if (grpc === undefined || route?.grpcTimeoutHeaderMaxMs === undefined) {
    const routeMax = route?.maxStreamDurationMs;
    if (routeMax !== undefined) {
      if (routeMax === 0) return undefined;
      t = routeMax;
    } else if (hcm.maxStreamDurationMs > 0) t = hcm.maxStreamDurationMs;
    else return undefined;
  } else {
    t = grpc;
    const max = route.grpcTimeoutHeaderMaxMs;
    if (t > max && max !== 0) t = max;
    const offset = route.grpcTimeoutHeaderOffsetMs;
    if (t !== 0 && offset !== undefined) t = offset < t ? t - offset : 0;
  }
  if (route?.newTimeouts === true && isGrpcRequest(h['content-type'])) h['grpc-timeout'] = formatGrpcTimeout(t);
  return t;
}

/** Whether the whole request has arrived (Envoy's remoteDecodeComplete). */
function requestComplete(s: HttpStream): boolean {
  const r = s.request;
  if (!r.hasBody) return true;
  const body = r.body as { readableEnded?: boolean; complete?: boolean };
  return body.complete === true || body.readableEnded === true;
}

/**
 * One connection manager's stream timers: a single sweep for every stream's idle timeout (a Set, no timer per
 * stream), a timer per stream only for a maximum duration. The sweep runs every quarter of the shortest idle
 * timeout it has seen, and stops once a sweep finds no stream left.
 */
export class StreamTimers {
  readonly #idle = new Set<HttpStream>();
  #sweep: NodeJS.Timeout | undefined;
  #tickMs = 0;

  constructor(private readonly counters: StreamTimeoutCounters | undefined) {}

  /** Starts `s`'s timers: `idleMs` 0 for none, `durationMs` undefined for none. */
  watch(s: HttpStream, idleMs: number, durationMs: number | undefined): void {
    s.timers = this;
    if (idleMs > 0) {
      s.idleMs = idleMs;
      s.idleSeen = -1;
      this.#idle.add(s);
      const tick = Math.max(1, Math.floor(idleMs / IDLE_CHECKS));
      if (this.#sweep === undefined || tick < this.#tickMs) {
        if (this.#sweep !== undefined) clearInterval(this.#sweep);
        this.#tickMs = tick;
        this.#sweep = setInterval(() => this.#check(), tick);
        this.#sweep.unref();
      }
    }
    if (durationMs !== undefined) {
      const used = Number((process.hrtime.bigint() - s.info.startNs) / 1_000_000n);
      s.durationTimer = setTimeout(() => this.#fire(s, 'duration'), Math.max(0, durationMs - used));
      s.durationTimer.unref();
    }
  }

  /** The stream is over. */
  release(s: HttpStream): void {
    s.timers = undefined;
    if (s.idleMs > 0) this.#idle.delete(s);
    if (s.durationTimer !== undefined) clearTimeout(s.durationTimer);
    s.durationTimer = undefined;
  }

  /**
   * A stream whose activity count moved since the last sweep is quiet from now; one quiet for its idle timeout
   * times out (so between one timeout and one sweep interval past it after its last activity).
   */
  #check(): void {
    const streams = this.#idle;
    if (streams.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
      return;
    }
    const now = Date.now();
    for (const s of streams) {
      if (s.activity !== s.idleSeen) {
        s.idleSeen = s.activity;
        s.quietSince = now;
      } else if (now - s.quietSince >= s.idleMs) this.#fire(s, 'idle');
    }
  }

  #fire(s: HttpStream, kind: 'idle' | 'duration'): void {
    this.release(s);
    const status = requestComplete(s) ? 504 : 408;
    s.cancelUpstream();
    if (kind === 'idle') {
      this.counters?.rqIdleTimeout.inc();
      s.localReply({ status, body: 'stream timeout', flag: ResponseFlag.SI, details: 'stream_idle_timeout' });
    } else {
      this.counters?.rqMaxDurationReached.inc();
      s.localReply({ status, body: 'downstream duration timeout', flag: 0, details: 'max_duration_timeout', grpcStatus: 4 });
    }
  }
}

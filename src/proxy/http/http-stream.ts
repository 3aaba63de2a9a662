// One request through the HTTP connection manager (Envoy's ActiveStream): the downstream request and
// response, what happened to it (StreamInfo), and the operations filters and the router use: local replies,
// writing the upstream's response head, the headers sent upstream, resets. Works over HTTP/1.1 and HTTP/2
// (http1-response.ts, http2-response.ts), so filters never see the codec.
// An encode hook may hold the response head (Envoy's encodeHeaders answering StopIteration): until
// continueEncoding() nothing reaches the downstream response; the upstream's body and end wait in order, with
// watermark backpressure, and a local reply meanwhile replaces the held response.

import type { ClusterHandle } from '../upstream/cluster-handle.js';
import type { OverrideHost } from '../upstream/override-host.js';
import type { OutgoingHttpHeaders } from 'node:http';
import type { DownstreamRequest, DownstreamResponse } from './downstream.js';
import type { Random } from '../lib/random.js';
import type { StreamInfo } from './stream-info.js';
import { grpcMessage, grpcStatusForHttp, isGrpcRequest, type LocalReply } from './local-reply.js';
import { appendVia, isHopByHop, type HeaderMap, type ResponseHeaderPolicy } from './headers.js';

export type { HeaderMap };
export type { DownstreamRequest, DownstreamResponse, HttpProtocol } from './downstream.js';
export { runBodyFilters, type BodyFilter, type EncodeHeadHook, type EncodeTrailersHook, type ResponseHeadHook } from './stream-hooks.js';
import { runBodyFilters, type BodyFilter, type EncodeHeadHook, type EncodeTrailersHook, type ResponseHeadHook } from './stream-hooks.js';

const GRPC_STATUS_HEADERS = ['grpc-status', 'grpc-message', 'grpc-status-details-bin'];

const NO_RESPONSE_POLICY: ResponseHeaderPolicy = Object.freeze({ via: '', alwaysSetRequestId: false, serverIfAbsent: '' });

const EMPTY = Buffer.alloc(0);

function hasEntries(h: HeaderMap): boolean {
  for (const _ in h) return true;
  return false;
}


/**
 * A stream's buffer limit unless its listener sets per_connection_buffer_limit_bytes (Envoy's default, 1 MiB).
 * Body bytes queued behind a held head above the limit make writeBody ask the caller to wait. Wasm plugins
 * pause with StopAllIterationAndWatermark (proxy-wasm-cpp-host src/context.cc converts StopIteration to it):
 * the data waits with backpressure, the stream does not fail.
 */
export const HELD_BODY_WATERMARK = 1024 * 1024;

/** The end of a held response: the upstream's (with its trailers) or a local reply's body. */
type HeldEnd = { readonly upstream: true; readonly trailers: HeaderMap | undefined } | { readonly upstream: false; readonly body: string | Buffer | undefined };

/** A response head held by an encode hook, with what arrived after it. */
interface HeldHead {
  readonly kind: 'head';
  readonly status: number;
  readonly headers: HeaderMap;
  /** The encode hook to run next (they run last-added first); -1 when none is left. */
  next: number;
  /** Upstream body chunks not yet given to the body filters. */
  readonly chunks: Buffer[];
  bytes: number;
  /** How the response ends once the head is out. */
  end: HeldEnd | undefined;
  /** The writer waiting for room (writeBody answered false). */
  drained: (() => void) | undefined;
  /** holdHeadForBody: the body is kept (up to its limit) and handed over at the end, then the head goes on. */
  collect?: { readonly limit: number; readonly finish: (body: Buffer) => void } | undefined;
}

/** The upstream's trailers held by an encode trailers hook. */
interface HeldTrailers {
  readonly kind: 'trailers';
  readonly trailers: HeaderMap;
  next: number;
}

// Where the response stands. FLOWING: nothing held (before the head, or streaming). HEAD_PENDING: a head is in
// the encode hooks or held by one. TRAILERS_HELD: the end waits for a trailers hook. DISCARD: the upstream's
// response goes nowhere (a local reply replaced it, or the stream was reset).
const FLOWING = 0;
const HEAD_PENDING = 1;
const TRAILERS_HELD = 2;
const DISCARD = 3;

// What became of a head given to #head.
const HEAD_SENT = 0;
const HEAD_HELD = 1;
const HEAD_REPLACED = 2;

export interface StreamHooks {
  /** Resets the downstream stream (HTTP/1: closes the connection; HTTP/2: RST_STREAM). */
  reset(): void;
  onReset(f: () => void): void;
  /** Runs (once) what onReset registered, without resetting the stream. */
  cancelWork?(): void;
}

export class HttpStream {
  /** The path sent upstream (after rewrites). */
  upstreamPath: string;
  /** The authority sent upstream (after host rewrites). */
  upstreamAuthority: string;
  /** The upstream TLS ALPN list for this request (Istio's istio.alpn filter); undefined: the cluster's own. */
  upstreamAlpn: readonly string[] | undefined = undefined;
  /** Run on every response head, in order (route header mutations, CORS, the HCM's own). */
  readonly responseHooks: ResponseHeadHook[] = [];
  /** The response head as sent downstream (for the access log); undefined until one is sent. */
  responseHeaders: HeaderMap | undefined;
  /** Request body filters in filter order; undefined (the common case) when no filter looks at bodies. */
  requestBodyFilters: BodyFilter[] | undefined;
  /** Response body filters in the order they run (the reverse of the filter chain, as Envoy's encoders). */
  responseBodyFilters: BodyFilter[] | undefined;
  /**
   * Response head hooks of filters in the encode direction (Envoy's encoder filters), run after
   * responseHooks, last-added first, so a filter sees what the router and later filters set.
   */
  readonly encodeHooks: EncodeHeadHook[] = [];
  /** The same for the upstream's response trailers, when it sent some (Envoy's encodeTrailers). */
  readonly encodeTrailerHooks: EncodeTrailersHook[] = [];
  /** proxy_100_continue (set by the connection manager): the upstream's `100 Continue` goes downstream. */
  proxy100Continue = false;
  /**
   * The listener's per_connection_buffer_limit_bytes (set by the connection manager; 0: none): Envoy's
   * decoder and encoder buffer limit of the stream (retry and shadow bodies, bodies behind a paused filter).
   */
  bufferLimit = HELD_BODY_WATERMARK;
  /** The host a filter asks the router for (Envoy's setUpstreamOverrideHost; the stateful session filter). */
  upstreamOverrideHost: OverrideHost | undefined = undefined;
  /** An upgrade request's terminal (upgrade.ts): the router opens a tunnel to the route's cluster instead. */
  tunnel: ((cluster: ClusterHandle) => void) | undefined = undefined;
  /** Envoy's is_grpc_request: decided from the request as it arrived (a gRPC-Web request is not gRPC). */
  #grpc: boolean;
  /**
   * The grpc_web filter took the request: a trailers-only gRPC response keeps its status in the head, and a
   * local reply goes as grpc-status and grpc-message with its HTTP status and no body (the filter's
   * transformation of a response that is not gRPC).
   */
  grpcWeb = false;
  #state = FLOWING;
  #held: HeldHead | HeldTrailers | undefined;
  /** Bumped when a head in the encode hooks is abandoned (replaced or reset), so its hook loop stops. */
  #headSeq = 0;
  #watchingReset = false;
  #pendingTrailers: HeaderMap | undefined;
  #completion: (() => void)[] | undefined;
  #collectNext: HeldHead['collect'];
  /** Bumped by every read and write of the stream; the rest is the stream timers' state (stream-timeouts.ts). */
  activity = 0;
  idleMs = 0;
  idleSeen = 0;
  quietSince = 0;
  durationTimer: NodeJS.Timeout | undefined = undefined;
  timers: { release(s: HttpStream): void } | undefined = undefined;

  constructor(
    readonly request: DownstreamRequest,
    readonly response: DownstreamResponse,
    readonly info: StreamInfo,
    readonly random: Random,
    private readonly hooks: StreamHooks,
    private readonly serverHeader: string | undefined,
    private readonly responsePolicy: ResponseHeaderPolicy = NO_RESPONSE_POLICY,
  ) {
    this.upstreamPath = request.path;
    this.upstreamAuthority = request.authority;
    this.#grpc = isGrpcRequest(request.headers['content-type']);
  }

  /** Runs `f` once the stream is over (answered or reset), before its access log entry. */
  onComplete(f: () => void): void {
    (this.#completion ??= []).push(f);
  }

  /** Called once by the connection manager when the stream ends. */
  complete(): void {
    this.timers?.release(this);
    const fs = this.#completion;
    if (fs === undefined) return;
    this.#completion = undefined;
    for (const f of fs) f();
  }

  onDownstreamReset(f: () => void): void {
    this.hooks.onReset(f);
  }

  /** Runs what waits for a downstream reset (the router's attempts, a held delay) without resetting: a local reply follows. */
  cancelUpstream(): void {
    this.hooks.cancelWork?.();
  }

  resetDownstream(terminationDetails: string): void {
    this.info.connectionTerminationDetails = terminationDetails;
    this.#discard();
    this.hooks.reset();
  }

  /**
   * Whether the response head has left the router: sent downstream, or held by an encode hook (Envoy's
   * downstream_response_started_: no retry after it).
   */
  get responseStarted(): boolean {
    return this.#state !== FLOWING || this.response.headersSent;
  }

  /** `100 Continue` downstream (encode1xxHeaders): once, before the head, never to HTTP/1.0 (RFC 9110 15.2). */
  sendContinue(): void {
    if (this.info.continueSent || this.responseStarted || this.request.protocol === 'HTTP/1.0') return;
    this.info.continueSent = true;
    this.response.writeContinue();
  }

  /** Calls `f` once the response takes more body after writeBody answered false. */
  whenDrained(f: () => void): void {
    const held = this.#held;
    if (held !== undefined && held.kind === 'head') held.drained = f;
    else this.response.once('drain', f);
  }

  /**
   * Envoy's continueEncoding: the hook that held the head (or trailers) lets it go on. The remaining hooks run
   * (one may hold it again), then the head and everything queued behind it are written in order.
   */
  /**
   * Called by an encode hook about to answer 'stop': the head then waits for the whole body (its first
   * `limit` bytes kept, the rest dropped, no backpressure), which `finish` gets at the end, with the head
   * still changeable; the head then goes on, without that body (Envoy's StopIteration, then
   * StopIterationAndBuffer until end_stream).
   */
  holdHeadForBody(limit: number, finish: (body: Buffer) => void): void {
    this.#collectNext = { limit, finish };
  }

  continueEncoding(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    if (held.kind === 'head') this.#encode(held.status, held.headers, held.next, held);
    else {
      this.#state = FLOWING;
      this.#trailerHooks(held.trailers, held.next);
    }
  }

  /** The held or in-progress response is abandoned: its queue is dropped and later upstream data ignored. */
  #discard(): void {
    this.#state = DISCARD;
    this.#held = undefined;
    this.#headSeq++;
  }

  /** Envoy's sendLocalReply: text/plain with the body, or trailers-only gRPC for gRPC requests. */
  localReply(r: LocalReply): void {
    const info = this.info;
    info.flags |= r.flag;
    info.details = r.details;
    if (this.response.headersSent) {
      this.resetDownstream(r.details);
      return;
    }
    // A head in the encode hooks or held by one has not reached the codec: the reply replaces it and, as
    // Envoy's sendDirectLocalReply (source/common/http/filter_manager.cc), bypasses the encode hooks.
    const direct = this.#state === HEAD_PENDING;
    if (direct) this.#replaceHeld();
    const h: HeaderMap = {};
    const grpc = this.#grpc;
    if (grpc || this.grpcWeb) {
      if (grpc) h['content-type'] = 'application/grpc';
      else h['content-length'] = '0';
      h['grpc-status'] = String(r.grpcStatus ?? grpcStatusForHttp(r.status));
      if (r.body !== '') h['grpc-message'] = grpcMessage(r.body);
    } else if (r.body !== '') {
      h['content-type'] = 'text/plain';
      h['content-length'] = String(Buffer.byteLength(r.body));
    } else h['content-length'] = '0';
    if (r.headers !== undefined) for (const k in r.headers) h[k] = r.headers[k];
    const status = grpc ? 200 : r.status;
    info.responseCode = status;
    const body = grpc || this.grpcWeb || r.body === '' ? undefined : r.body;
    const st = this.#head(status, h, direct);
    if (st === HEAD_SENT) this.#endWith(body);
    else if (st === HEAD_HELD) (this.#held as HeldHead).end = { upstream: false, body };
  }

  /** A response that is not an error (redirects, direct responses, CORS preflights). */
  respond(status: number, headers: HeaderMap, body: string | Buffer, details: string): void {
    this.info.details = details;
    this.info.responseCode = status;
    const h: HeaderMap = { ...headers };
    if (h['content-length'] === undefined) h['content-length'] = String(Buffer.byteLength(body));
    const direct = this.#state === HEAD_PENDING;
    if (direct) this.#replaceHeld();
    const st = this.#head(status, h, direct);
    if (st === HEAD_SENT) this.#endWith(body);
    else if (st === HEAD_HELD) (this.#held as HeldHead).end = { upstream: false, body };
  }

  #endWith(body: string | Buffer | undefined): void {
    if (body === undefined) this.response.end();
    else {
      this.info.bytesSent += Buffer.byteLength(body);
      this.response.end(body);
    }
  }

  /** A local reply replaces the pending head: the writer waiting for room resumes into the discarded response. */
  #replaceHeld(): void {
    const held = this.#held;
    this.#discard();
    if (held !== undefined && held.kind === 'head' && held.drained !== undefined) held.drained();
  }

  #head(status: number, h: HeaderMap, direct: boolean): number {
    const hooks = this.responseHooks;
    for (let i = 0; i < hooks.length; i++) (hooks[i] as ResponseHeadHook)(status, h);
    if (direct || this.encodeHooks.length === 0) {
      this.#writeHead(status, h);
      return HEAD_SENT;
    }
    return this.#encode(status, h, this.encodeHooks.length - 1, undefined);
  }

  /** Runs the encode hooks from `from` down; writes the head (and what `held` queued) when none holds it. */
  #encode(status: number, h: HeaderMap, from: number, held: HeldHead | undefined): number {
    const enc = this.encodeHooks;
    const seq = this.#headSeq;
    this.#state = HEAD_PENDING;
    for (let i = from; i >= 0; i--) {
      const r = (enc[i] as EncodeHeadHook)(status, h);
      if (this.#headSeq !== seq) return HEAD_REPLACED; // answered locally or reset from inside the hook
      if (r === 'stop') {
        if (held === undefined) held = { kind: 'head', status, headers: h, next: i - 1, chunks: [], bytes: 0, end: undefined, drained: undefined };
        else held.next = i - 1;
        if (this.#collectNext !== undefined) {
          held.collect = this.#collectNext;
          this.#collectNext = undefined;
        }
        this.#held = held;
        this.#watchReset();
        return HEAD_HELD;
      }
    }
    this.#state = FLOWING;
    this.#writeHead(status, h);
    if (held !== undefined) this.#flush(held);
    return HEAD_SENT;
  }

  #writeHead(status: number, h: HeaderMap): void {
    if (this.serverHeader !== undefined) h['server'] = this.serverHeader;
    const p = this.responsePolicy;
    if (p !== NO_RESPONSE_POLICY) {
      if (p.via !== '') h['via'] = appendVia(h['via'], p.via);
      const id = this.request.headers['x-request-id'];
      if (p.alwaysSetRequestId && id !== undefined) h['x-request-id'] = id;
      if (p.serverIfAbsent !== '' && h['server'] === undefined) h['server'] = p.serverIfAbsent;
    }
    const g = h['grpc-status'];
    if (g !== undefined) this.info.grpcStatus = typeof g === 'string' ? g : (g[0] ?? '');
    this.responseHeaders = h;
    this.response.writeHead(status, h as OutgoingHttpHeaders);
  }

  /** Writes what waited behind a released head, in arrival order. */
  #flush(held: HeldHead): void {
    let room = true;
    for (const c of held.chunks) {
      if (this.#state !== FLOWING) return;
      room = this.writeBody(c);
    }
    if (this.#state !== FLOWING) return;
    const end = held.end;
    if (end !== undefined) {
      if (end.upstream) this.endResponse(end.trailers);
      else this.#endWith(end.body);
      return;
    }
    const w = held.drained;
    if (w === undefined) return;
    if (room) w();
    else this.response.once('drain', w);
  }

  /** A downstream reset while something is held drops the queue (once per stream, only when holding). */
  #watchReset(): void {
    if (this.#watchingReset) return;
    this.#watchingReset = true;
    this.hooks.onReset(() => this.#discard());
  }

  /** The upstream's response head (the map becomes the stream's), without hop-by-hop headers, with x-envoy-upstream-service-time. */
  writeUpstreamHead(status: number, upstream: HeaderMap): void {
    this.activity++;
    // The dispatcher's map is this response's own: used as the head unless hop-by-hop headers need removing.
    let h = upstream;
    for (const k in upstream) {
      if (isHopByHop(k)) {
        h = {};
        for (const n in upstream) if (!isHopByHop(n)) h[n] = upstream[n];
        break;
      }
    }
    if (h['grpc-status'] !== undefined && this.request.protocol === 'HTTP/2' && !this.grpcWeb) {
      // A trailers-only gRPC response: the status goes out as trailers (the head is already on its way
      // when the end of stream arrives), which every gRPC client reads the same way.
      const t: HeaderMap = {};
      for (const k of GRPC_STATUS_HEADERS) {
        if (h[k] !== undefined) t[k] = h[k];
        delete h[k];
      }
      this.#pendingTrailers = t;
    }
    if (this.info.upstreamServiceTimeMs >= 0) h['x-envoy-upstream-service-time'] = String(this.info.upstreamServiceTimeMs);
    this.info.responseCode = status;
    this.#head(status, h, false);
  }

  /** Writes a chunk of the upstream's response body through the body filters; false asks the caller to wait for 'drain'. */
  writeBody(chunk: Buffer): boolean {
    this.activity++;
    if (this.#state !== FLOWING) return this.#queueBody(chunk);
    let c: Buffer | undefined = chunk;
    if (this.responseBodyFilters !== undefined) {
      c = runBodyFilters(this.responseBodyFilters, chunk, false);
      if (c === undefined || c.length === 0) return true;
    }
    this.info.bytesSent += c.length;
    return this.response.write(c);
  }

  /** A chunk behind a held head waits (false above the watermark); once the response is discarded it is dropped. */
  #queueBody(chunk: Buffer): boolean {
    const held = this.#held;
    if (held === undefined || held.kind !== 'head') return true;
    const collect = held.collect;
    if (collect !== undefined) {
      // Envoy's grpc_web buffers a body it turns into grpc-message up to its limit and drops the rest.
      const room = collect.limit - held.bytes;
      if (room > 0) held.chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      held.bytes += Math.min(room, chunk.length);
      return true;
    }
    held.chunks.push(chunk);
    held.bytes += chunk.length;
    return this.bufferLimit === 0 || held.bytes < this.bufferLimit;
  }

  endResponse(upstreamTrailers: HeaderMap | undefined): void {
    this.activity++;
    if (this.#state !== FLOWING) {
      const held = this.#held;
      if (held !== undefined && held.kind === 'head') {
        held.end = { upstream: true, trailers: upstreamTrailers };
        const collect = held.collect;
        if (collect !== undefined) {
          held.collect = undefined;
          const body = Buffer.concat(held.chunks);
          held.chunks.length = 0;
          held.bytes = 0;
          collect.finish(body);
          this.continueEncoding();
        }
      }
      return;
    }
    if (this.responseBodyFilters !== undefined) {
      const last = runBodyFilters(this.responseBodyFilters, EMPTY, true);
      if (this.#state !== FLOWING) return; // a body filter answered or reset the stream
      if (last !== undefined && last.length > 0) {
        this.info.bytesSent += last.length;
        this.response.write(last);
      }
    }
    const th = this.encodeTrailerHooks;
    if (th.length > 0 && upstreamTrailers !== undefined && hasEntries(upstreamTrailers)) this.#trailerHooks({ ...upstreamTrailers }, th.length - 1);
    else this.#end(upstreamTrailers);
  }

  /** Runs the trailers hooks from `from` down, then ends the response, unless one holds the trailers. */
  #trailerHooks(t: HeaderMap, from: number): void {
    const th = this.encodeTrailerHooks;
    for (let i = from; i >= 0; i--) {
      const r = (th[i] as EncodeTrailersHook)(t);
      if (this.#state !== FLOWING) return; // reset from inside the hook
      if (r === 'stop') {
        this.#held = { kind: 'trailers', trailers: t, next: i - 1 };
        this.#state = TRAILERS_HELD;
        this.#watchReset();
        return;
      }
    }
    this.#end(t);
  }

  #end(upstreamTrailers: HeaderMap | undefined): void {
    let trailers = upstreamTrailers;
    if (this.#pendingTrailers !== undefined) trailers = { ...this.#pendingTrailers, ...trailers };
    const g = trailers?.['grpc-status'];
    if (g !== undefined) this.info.grpcStatus = typeof g === 'string' ? g : (g[0] ?? '');
    if (trailers !== undefined && hasEntries(trailers)) this.response.addTrailers(trailers as OutgoingHttpHeaders);
    this.response.end();
  }

}

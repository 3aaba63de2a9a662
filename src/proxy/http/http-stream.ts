// One request through the HTTP connection manager (Envoy's ActiveStream): the downstream request and
// response, what happened to it (StreamInfo), and the operations filters and the router use: local replies,
// writing the upstream's response head, the headers sent upstream, resets. Works over HTTP/1.1 and HTTP/2
// (node's compatibility API), so filters never see the codec.

import type { Readable } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Random } from '../lib/random.js';
import type { StreamInfo } from './stream-info.js';
import type { PeerCertificate } from './peer-certificate.js';
import { grpcStatusForHttp, isGrpcRequest, type LocalReply } from './local-reply.js';
import { HOP_BY_HOP, type HeaderMap } from './headers.js';

export type { HeaderMap };

const GRPC_STATUS_HEADERS = ['grpc-status', 'grpc-message', 'grpc-status-details-bin'];
export type HttpProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

export interface DownstreamRequest {
  readonly method: string;
  /** :path as received (with the query). */
  readonly path: string;
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  readonly protocol: HttpProtocol;
  /** Lower-case names; mutable: HCM and filters edit it before it goes upstream. */
  readonly headers: HeaderMap;
  readonly hasBody: boolean;
  readonly body: Readable;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly serverName: string;
  /** The verified client certificate of the connection (mTLS), if any. */
  readonly peer?: PeerCertificate | undefined;
}

export interface DownstreamResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  addTrailers(headers: OutgoingHttpHeaders): void;
  once(event: 'drain', f: () => void): unknown;
}

/** Applied to every response head: route/vhost response header mutations and the HCM's own headers. */
export type ResponseHeadHook = (status: number, headers: HeaderMap) => void;

/**
 * A body filter (Envoy's decodeData/encodeData, used by Wasm plugins): sees each chunk in order and returns
 * what passes on now, or undefined while it holds the data back (StopIterationAndBuffer). It is called once
 * with `end` true, with an empty chunk when the body had already been seen, and must then return everything
 * it still holds. As in Envoy, a filter that changes a body's length removes its content-length header
 * itself (Wasm plugins do so in their headers callback).
 */
export type BodyFilter = (chunk: Buffer, end: boolean) => Buffer | undefined;

const EMPTY = Buffer.alloc(0);

function hasEntries(h: HeaderMap): boolean {
  for (const _ in h) return true;
  return false;
}

/** Runs `chunk` through `fs` in order; undefined when a filter holds it back. */
export function runBodyFilters(fs: readonly BodyFilter[], chunk: Buffer, end: boolean): Buffer | undefined {
  let c: Buffer = chunk;
  for (let i = 0; i < fs.length; i++) {
    const out = (fs[i] as BodyFilter)(c, end);
    if (out === undefined) {
      if (!end) return undefined;
      c = EMPTY;
    } else c = out;
  }
  return c;
}

export interface StreamHooks {
  /** Resets the downstream stream (HTTP/1: closes the connection; HTTP/2: RST_STREAM). */
  reset(): void;
  onReset(f: () => void): void;
}

export class HttpStream {
  /** The path sent upstream (after rewrites). */
  upstreamPath: string;
  /** The authority sent upstream (after host rewrites). */
  upstreamAuthority: string;
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
  readonly encodeHooks: ResponseHeadHook[] = [];
  /** The same for the upstream's response trailers, when it sent some (Envoy's encodeTrailers). */
  readonly encodeTrailerHooks: ((trailers: HeaderMap) => void)[] = [];
  #grpc: boolean;
  #pendingTrailers: HeaderMap | undefined;
  #completion: (() => void)[] | undefined;

  constructor(
    readonly request: DownstreamRequest,
    readonly response: DownstreamResponse,
    readonly info: StreamInfo,
    readonly random: Random,
    private readonly hooks: StreamHooks,
    private readonly serverHeader: string | undefined,
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
    const fs = this.#completion;
    if (fs === undefined) return;
    this.#completion = undefined;
    for (const f of fs) f();
  }

  onDownstreamReset(f: () => void): void {
    this.hooks.onReset(f);
  }

  resetDownstream(terminationDetails: string): void {
    this.info.connectionTerminationDetails = terminationDetails;
    this.hooks.reset();
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
    const h: HeaderMap = {};
    if (this.#grpc) {
      h['content-type'] = 'application/grpc';
      h['grpc-status'] = String(grpcStatusForHttp(r.status));
      if (r.body !== '') h['grpc-message'] = encodeURIComponent(r.body);
    } else if (r.body !== '') {
      h['content-type'] = 'text/plain';
      h['content-length'] = String(Buffer.byteLength(r.body));
    } else h['content-length'] = '0';
    if (r.headers !== undefined) for (const k in r.headers) h[k] = r.headers[k];
    const status = this.#grpc ? 200 : r.status;
    info.responseCode = status;
    this.#head(status, h);
    if (this.#grpc || r.body === '') this.response.end();
    else {
      info.bytesSent += Buffer.byteLength(r.body);
      this.response.end(r.body);
    }
  }

  /** A response that is not an error (redirects, direct responses, CORS preflights). */
  respond(status: number, headers: HeaderMap, body: string | Buffer, details: string): void {
    this.info.details = details;
    this.info.responseCode = status;
    const h: HeaderMap = { ...headers };
    if (h['content-length'] === undefined) h['content-length'] = String(Buffer.byteLength(body));
    this.#head(status, h);
    this.info.bytesSent += Buffer.byteLength(body);
    this.response.end(body);
  }

  #head(status: number, h: HeaderMap): void {
    const hooks = this.responseHooks;
    for (let i = 0; i < hooks.length; i++) (hooks[i] as ResponseHeadHook)(status, h);
    const enc = this.encodeHooks;
    for (let i = enc.length - 1; i >= 0; i--) (enc[i] as ResponseHeadHook)(status, h);
    if (this.serverHeader !== undefined) h['server'] = this.serverHeader;
    this.responseHeaders = h;
    this.response.writeHead(status, h as OutgoingHttpHeaders);
  }

  /** The upstream's response head (the map becomes the stream's), without hop-by-hop headers, with x-envoy-upstream-service-time. */
  writeUpstreamHead(status: number, upstream: HeaderMap): void {
    // The dispatcher's map is this response's own: used as the head unless hop-by-hop headers need removing.
    let h = upstream;
    for (const k in upstream) {
      if (HOP_BY_HOP.has(k)) {
        h = {};
        for (const n in upstream) if (!HOP_BY_HOP.has(n)) h[n] = upstream[n];
        break;
      }
    }
    if (h['grpc-status'] !== undefined && this.request.protocol === 'HTTP/2') {
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
    this.#head(status, h);
  }

  /** Writes a chunk of the upstream's response body through the body filters; false asks the caller to wait for 'drain'. */
  writeBody(chunk: Buffer): boolean {
    let c: Buffer | undefined = chunk;
    if (this.responseBodyFilters !== undefined) {
      c = runBodyFilters(this.responseBodyFilters, chunk, false);
      if (c === undefined || c.length === 0) return true;
    }
    this.info.bytesSent += c.length;
    return this.response.write(c);
  }

  endResponse(upstreamTrailers: HeaderMap | undefined): void {
    if (this.responseBodyFilters !== undefined) {
      const last = runBodyFilters(this.responseBodyFilters, EMPTY, true);
      if (last !== undefined && last.length > 0) {
        this.info.bytesSent += last.length;
        this.response.write(last);
      }
    }
    let trailers = upstreamTrailers;
    const th = this.encodeTrailerHooks;
    if (th.length > 0 && trailers !== undefined && hasEntries(trailers)) {
      const t: HeaderMap = { ...trailers };
      for (let i = th.length - 1; i >= 0; i--) (th[i] as (x: HeaderMap) => void)(t);
      trailers = t;
    }
    if (this.#pendingTrailers !== undefined) trailers = { ...this.#pendingTrailers, ...trailers };
    if (trailers !== undefined) {
      let any = false;
      for (const _ in trailers) {
        any = true;
        break;
      }
      if (any) this.response.addTrailers(trailers as OutgoingHttpHeaders);
    }
    this.response.end();
  }

  /**
   * The headers sent upstream: the downstream's minus hop-by-hop and pseudo headers, with the (rewritten)
   * host, x-envoy-attempt-count when the virtual host asks for it and x-envoy-expected-rq-timeout-ms.
   */
  upstreamHeaders(attempt: number, timeoutMs: number): HeaderMap {
    const src = this.request.headers;
    const h: HeaderMap = {};
    for (const k in src) {
      if (k.charCodeAt(0) === 58 /* : */ || HOP_BY_HOP.has(k)) continue;
      h[k] = src[k];
    }
    if (src['te'] === 'trailers') h['te'] = 'trailers';
    h['host'] = this.upstreamAuthority;
    if (attempt > 0) h['x-envoy-attempt-count'] = String(attempt);
    if (timeoutMs > 0) h['x-envoy-expected-rq-timeout-ms'] = String(timeoutMs);
    return h;
  }
}

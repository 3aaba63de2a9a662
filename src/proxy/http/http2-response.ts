// One HTTP/2 response written straight to node's core stream (the write side of the downstream HTTP/2 codec),
// in place of node:http2's compatibility response: no Http2ServerRequest/Http2ServerResponse pair and their
// eleven listeners per stream, and no trailers round trip on every response.
// The head is held until the end, or until the I/O callbacks of this event-loop turn are over (as the
// HTTP/1.1 writer holds it, http1-response.ts): a response the upstream delivered in one read leaves as
// HEADERS and one DATA frame carrying END_STREAM (HEADERS alone with END_STREAM when it has no body). The
// compatibility layer always asked for trailers, so every response ended with an extra empty DATA frame
// sent from a setImmediate. A response still streaming at the end of its first turn asks for trailers
// (node's `waitForTrailers`): the upstream's, when it sends some (gRPC's grpc-status), go out as a
// trailing HEADERS frame, otherwise node ends the stream with an empty DATA frame.
// Headers are written as the HTTP/1.1 writer writes them: a name that is not a token or a value holding a
// control character other than tab is dropped, values with characters above U+00FF go as UTF-8, and the
// connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2) are left out, as node's compatibility
// layer left them out. It is also the stream's reset hooks (RST_STREAM with INTERNAL_ERROR, Envoy's reset
// of a downstream HTTP/2 stream) and reports once when the stream closes, and whether the response was
// complete by then.

import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { DownstreamResponse, StreamHooks } from './http-stream.js';
import { isHopByHop, type HeaderMap } from './headers.js';
import { firstWins, isHeaderName, wireHeaderValue } from './http1-head.js';
import { scheduleFlush } from './http1-response.js';

const { NGHTTP2_INTERNAL_ERROR } = constants;

function ignore(): void {}

/** A header map as node's http2 takes it: the writable headers, latin1 strings of their wire bytes, `:status` first. */
export function h2Headers(status: number | undefined, h: HeaderMap): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = status !== undefined ? { ':status': status } : {};
  for (const name in h) {
    const v = h[name];
    // Pseudo headers come from node's own maps; hop-by-hop ones are connection-specific (te: trailers aside).
    if (v === undefined || name.charCodeAt(0) === 58 /* : */ || !isHeaderName(name)) continue;
    if (isHopByHop(name) && !(name === 'te' && v === 'trailers')) continue;
    if (typeof v === 'string') {
      const w = wireHeaderValue(v);
      if (w !== undefined) out[name] = w;
      continue;
    }
    const ws: string[] = [];
    for (let i = 0; i < v.length; i++) {
      const w = wireHeaderValue(v[i] as string);
      if (w !== undefined) ws.push(w);
    }
    if (ws.length > 0) out[name] = ws;
  }
  return out;
}

/**
 * The head with no repeated header but set-cookie: the ones node:http keeps once go with their first value,
 * the others as one comma-separated value (RFC 9110 §5.3), which node's http2 takes for any header.
 */
function collapseRepeated(h: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const k in h) {
    const v = h[k];
    out[k] = !Array.isArray(v) || k === 'set-cookie' ? v : firstWins(k) ? v[0] : v.join(', ');
  }
  return out;
}

/** Answers a CONNECT stream 405, as node's compatibility server answered it. */
export function refuseConnect(stream: ServerHttp2Stream): void {
  stream.on('error', () => {});
  if (!stream.destroyed && !stream.closed) stream.respond({ ':status': 405 }, { endStream: true });
}

export class Http2Response implements DownstreamResponse, StreamHooks {
  headersSent = false;
  /** Called once, when the stream closes: aborted when the response had not been written to its end. */
  onDone: ((aborted: boolean) => void) | undefined;
  /**
   * The head is going out while the request's body has not all been read (Envoy's
   * downstream_rq_response_before_rq_complete, counted for every protocol; HTTP/2 keeps the connection).
   */
  onResponseBeforeRequestComplete: (() => void) | undefined;
  #status = 200;
  #headers: HeaderMap = {};
  /** The head was given to node (stream.respond). */
  #responded = false;
  #ended = false;
  /** HEAD requests and 204/205/304 responses: node ends the stream with the head. */
  #noBody = false;
  #pending: Buffer[] | undefined;
  #scheduled = false;
  #trailers: HeaderMap | undefined;
  #resets: (() => void)[] | undefined;
  #done = false;

  constructor(
    readonly stream: ServerHttp2Stream,
    private readonly method: string,
  ) {
    // A stream error (the client's RST_STREAM, a session failure) closes the stream, reported below; node
    // would throw it unhandled without a listener.
    stream.on('error', ignore);
    // node says 'aborted' when the stream closes (the client's RST_STREAM, even with NO_ERROR; the
    // connection lost; our own reset) before the response was ended. It then ends the writable side itself,
    // so by 'close' a response cut short looks finished (node's compatibility response missed it so).
    // (Each is said once: `on` spares the wrapper `once` makes per listener.)
    stream.on('aborted', () => this.#finish(true));
    stream.on('close', () => this.#finish(!this.#ended));
  }

  writeContinue(): void {
    const st = this.stream;
    if (!this.headersSent && !st.destroyed && !st.closed) st.additionalHeaders({ ':status': 100 });
  }

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    if (this.headersSent) return this;
    this.headersSent = true;
    this.#status = status;
    this.#headers = headers as HeaderMap;
    this.#noBody = status === 204 || status === 205 || status === 304 || this.method === 'HEAD';
    if (!this.#scheduled) {
      this.#scheduled = true;
      scheduleFlush(this);
    }
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (this.#ended) return false;
    if (!this.headersSent) this.writeHead(200, {});
    return this.#write(chunk);
  }

  #write(chunk: Buffer | string): boolean {
    if (this.#noBody || chunk.length === 0) return true;
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.#responded) {
      (this.#pending ??= []).push(b);
      return true;
    }
    const s = this.stream;
    return s.destroyed || s.closed ? true : s.write(b);
  }

  end(chunk?: Buffer | string): this {
    if (this.#ended) return this;
    if (!this.headersSent) this.writeHead(200, {});
    if (chunk !== undefined) this.#write(chunk);
    this.#ended = true;
    if (!this.#responded) this.#respond(true);
    else if (!this.#noBody && !this.stream.destroyed && !this.stream.closed) this.stream.end();
    return this;
  }

  addTrailers(headers: OutgoingHttpHeaders): void {
    this.#trailers = headers as HeaderMap;
  }

  once(_event: 'drain', f: () => void): this {
    this.stream.once('drain', f);
    return this;
  }

  /** The end of the loop turn in which the head was written: a response still going sends its head and body so far. */
  tick(): void {
    this.#scheduled = false;
    if (!this.#responded && !this.#ended) this.#respond(false);
  }

  /** Gives node the head and what is pending; `last`: the response is complete. */
  #respond(last: boolean): void {
    this.#responded = true;
    const s = this.stream;
    const chunks = this.#pending;
    this.#pending = undefined;
    if (s.destroyed || s.closed) return;
    if (!s.endAfterHeaders && !s.readableEnded) this.onResponseBeforeRequestComplete?.();
    const head = h2Headers(this.#status, this.#headers);
    const trailers = !last || this.#trailers !== undefined;
    const headOnly = this.#noBody || (last && chunks === undefined && !trailers);
    const options = headOnly ? { endStream: true } : trailers ? { waitForTrailers: true } : {};
    try {
      s.respond(head, options);
    } catch {
      // node allows some headers once (content-type, content-length, ...) and refuses the head before sending
      // anything: then the repeated headers go as node:http reads them.
      try {
        s.respond(collapseRepeated(head), options);
      } catch {
        this.reset();
        return;
      }
    }
    if (headOnly) return;
    if (trailers) s.on('wantTrailers', () => this.#sendTrailers());
    if (chunks !== undefined) {
      if (last) s.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      else for (const c of chunks) s.write(c);
    } else if (last) s.end();
  }

  #sendTrailers(): void {
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    // No trailers: node ends the stream with an empty DATA frame.
    s.sendTrailers(this.#trailers !== undefined ? h2Headers(undefined, this.#trailers) : {});
  }

  reset(): void {
    const s = this.stream;
    if (!s.destroyed && !s.closed) s.close(NGHTTP2_INTERNAL_ERROR);
  }

  onReset(f: () => void): void {
    (this.#resets ??= []).push(f);
  }

  /**
   * Runs what waits for a reset (the router's upstream attempts, a held fault delay) without resetting the
   * client's stream: the connection manager is about to answer it itself (request_timeout).
   */
  cancelWork(): void {
    const fs = this.#resets;
    this.#resets = undefined;
    if (fs !== undefined) for (const f of fs) f();
  }

  /** Whether the whole response has been handed to node. */
  get ended(): boolean {
    return this.#ended;
  }

  #finish(aborted: boolean): void {
    if (this.#done) return;
    this.#done = true;
    if (aborted) {
      const fs = this.#resets;
      this.#resets = undefined;
      if (fs !== undefined) for (const f of fs) f();
    }
    this.onDone?.(aborted);
  }
}

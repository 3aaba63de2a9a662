// The downstream HTTP/1.1 codec on a raw socket (Envoy's HTTP/1 server codec), in place of node:http's
// server: node's own strict llhttp parses requests (reading the socket's handle natively), each request
// becomes a DownstreamRequest and an Http1Response handed to the connection manager, with no
// IncomingMessage/ServerResponse per request. What node's server guarantees is kept: the strict parser
// refuses malformed input (answered by the connection manager's codec-error reply: 400, or 431 for
// oversized headers), HTTP/1.0 is refused unless accepted (`Expect: 100-continue` is the connection manager's), pipelined
// requests are answered in order (a malformed one after the responses before it, as Envoy's codec parses one
// request at a time), a response that starts before its request has all arrived closes the connection
// after it (as Envoy's connection manager does), request headers are merged as node merges them, and the
// headers timeout, request timeout and idle timeout close slow or idle connections (checked by the
// connection manager's one coarse timer, not a timer per request). Upgrades (WebSocket) leave the codec
// with their first bytes; CONNECT is refused by closing, as node's server does without a handler.

import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import type { ConnectionFacts, PeerCertificate } from './hcm-env.js';
import type { DownstreamRequest, HttpProtocol } from './http-stream.js';
import type { HeaderMap } from './headers.js';
import { HTTP1_PARSER, HTTP_METHODS, startReading, stopReading, type Http1Parser, type ParserCallbacks, type ParserError } from './http1-parser.js';
import { requestHeaderMap } from './http1-head.js';
import { Http1Response, type ResponseOwner } from './http1-response.js';
import { endWithDelayedClose } from '../lib/delayed-close.js';

/** What the codec needs from its connection manager. */
export interface Http1ServerHost {
  readonly maxHeaderSize: number;
  /** Whether HTTP/1.0 requests are served (http_protocol_options.accept_http_10); refused with a codec error when not. */
  readonly acceptHttp10: boolean;
  /** The Host given to an HTTP/1.0 request without one ('' = none). */
  readonly defaultHostForHttp10: string;
  /** Whether new responses should close their connection (the listener is draining). */
  readonly draining: boolean;
  /** delayed_close_timeout: how long a connection this side ends waits for the client's close. */
  readonly delayedCloseMs: number;
  /** max_requests_per_connection (0: none): the last one's response says `connection: close`. */
  readonly maxRequestsPerConnection: number;
  /** A request at or past max_requests_per_connection (downstream_cx_max_requests_reached). */
  onMaxRequestsReached?(): void;
  /** The connection reached max_connection_duration and drains (downstream_cx_max_duration_reached). */
  onMaxDurationReached?(): void;
  onRequest(req: Http1Request, res: Http1Response): void;
  /** An upgrade request: the socket and the bytes after the head are the caller's now. */
  onUpgrade(req: Http1Request, rawHeaders: readonly string[], socket: Socket, head: Buffer): void;
  /** Answers a codec error (and closes); `code` is llhttp's or one of ISM_HTTP10, ISM_TRANSFER_ENCODING, HPE_HEADERS_TIMEOUT, ERR_HTTP_REQUEST_TIMEOUT. */
  onCodecError(err: Error & { code?: string }, socket: Socket): void;
  /** A codec error after the request's response was complete: not answered (the codec closes), only counted. */
  onLateCodecError?(err: Error & { code?: string }): void;
  onClose(conn: Http1ServerConnection): void;
  /** The connection was idle (no request) for the idle timeout and is being closed. */
  onIdleTimeout?(): void;
  /** A response started before its request had all arrived (the connection closes after it). */
  onResponseBeforeRequestComplete?(): void;
}

export interface Http1Timeouts {
  /** Seconds (sweeps) a head may take; 0 = none. */
  readonly headersTicks: number;
  /** Sweeps a whole request may take to arrive; 0 = none. */
  readonly requestTicks: number;
  /** Sweeps a connection may stay idle between requests; 0 = none. */
  readonly idleTicks: number;
  /** Sweeps a connection may live (max_connection_duration) before it drains; 0 = none. */
  readonly maxDurationTicks: number;
  /** Sweeps from a drain's start to an idle connection's close (drain_timeout). */
  readonly drainTicks: number;
}

/** A request body: chunks pushed as llhttp delivers them; reading it on demand releases backpressure. */
class Http1Body extends Readable {
  constructor(private readonly conn: Http1ServerConnection) {
    super();
  }

  override _read(): void {
    this.conn.bodyWanted();
  }
}

export class Http1Request implements DownstreamRequest {
  /** Every byte of the request (body included) has arrived. */
  complete = false;
  bodyStream: Readable | undefined;

  constructor(
    readonly method: string,
    public path: string,
    public authority: string,
    readonly scheme: 'http' | 'https',
    readonly protocol: HttpProtocol,
    readonly headers: HeaderMap,
    readonly hasBody: boolean,
    readonly headerCount: number,
    f: ConnectionFacts,
  ) {
    this.remoteAddress = f.remoteAddress;
    this.remotePort = f.remotePort;
    this.localAddress = f.localAddress;
    this.localPort = f.localPort;
    this.serverName = f.serverName;
    this.peer = f.peer;
  }

  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly serverName: string;
  readonly peer: PeerCertificate | undefined;

  get body(): Readable {
    return (this.bodyStream ??= Readable.from([]));
  }
}

function noop(): void {}

export class Http1ServerConnection implements ParserCallbacks, ResponseOwner {
  readonly #parser: Http1Parser;
  readonly #consumed: boolean;
  #headList: string[] = [];
  #url = '';
  /** The request whose body is being parsed. */
  #parsing: Http1Request | undefined;
  /** The request being answered, and its response. */
  #req: Http1Request | undefined;
  #res: Http1Response | undefined;
  readonly #waiting: { req: Http1Request; res: Http1Response }[] = [];
  #upgrade: { req: Http1Request; raw: readonly string[] } | undefined;
  /** A codec error in a pipelined request, answered once the responses before it are out. */
  #deferredError: (Error & { code?: string }) | undefined;
  #dead = false;
  #draining = false;
  /** Sweep tick at which a draining idle connection closes (-1: none set). */
  #drainUntil = -1;
  /** Bytes of a request have arrived and its message is not complete yet. */
  #inMessage = false;
  /** Sweep tick at which the head being received started / the request started / the connection went idle (-1 = not). */
  #headSince: number;
  #requestSince = -1;
  #idleSince = -1;
  /** Sweep tick the connection was accepted at (max_connection_duration), and its requests so far. */
  readonly #born: number;
  #requests = 0;

  constructor(
    readonly socket: Socket,
    private readonly host: Http1ServerHost,
    private readonly facts: ConnectionFacts,
    private readonly clock: { readonly tick: number },
  ) {
    const make = HTTP1_PARSER;
    if (make === undefined) throw new Error('no HTTP/1.1 parser');
    this.#parser = make.request(host.maxHeaderSize, this);
    this.#born = clock.tick;
    this.#headSince = clock.tick; // a silent new connection is cut at the headers timeout (as node does)
    socket.on('error', noop);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    // Bytes already read (a protocol sniffer unshifts what it inspected) go first, then llhttp reads the handle.
    const buffered = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
    if (buffered !== null && !this.#execute(buffered)) {
      this.#consumed = false;
      return;
    }
    this.#consumed = this.#parser.consume(socket);
    if (!this.#consumed) socket.on('data', this.#onData);
  }

  readonly #onData = (d: Buffer): void => {
    this.#execute(d);
  };

  /** Parses bytes read through stream events; false once the connection left the codec. */
  #execute(d: Buffer): boolean {
    const r = this.#parser.execute(d);
    if (typeof r !== 'number') {
      this.#codecError(r);
      return false;
    }
    return this.#afterRead(r, d);
  }

  onExecute(result: number | ParserError): void {
    if (typeof result !== 'number') this.#codecError(result);
    else if (this.#upgrade !== undefined) this.#afterRead(result, this.#parser.currentBuffer());
  }

  #afterRead(parsed: number, buffer: Buffer): boolean {
    const u = this.#upgrade;
    if (u === undefined) return !this.#dead;
    this.#upgrade = undefined;
    this.#leave();
    this.host.onUpgrade(u.req, u.raw, this.socket, buffer.subarray(parsed));
    return false;
  }

  onMessageBegin(): void {
    this.#inMessage = true;
    this.#headSince = this.clock.tick;
    this.#idleSince = -1;
  }

  onHeaders(headers: string[], url: string): void {
    for (let i = 0; i < headers.length; i++) this.#headList.push(headers[i] as string);
    this.#url += url;
  }

  onHeadersComplete(_maj: number, minor: number, headers: string[] | undefined, method: number | undefined, url: string | undefined, _s: number | undefined, _m: string | undefined, upgrade: boolean, shouldKeepAlive: boolean): number {
    let list = headers;
    if (list === undefined) {
      list = this.#headList;
      this.#headList = [];
    }
    let path = url;
    if (path === undefined || path === '') {
      path = this.#url;
      this.#url = '';
    }
    this.#headSince = -1;
    this.#idleSince = -1;
    if (this.#dead) return 0;
    const name = HTTP_METHODS[method ?? -1] ?? 'GET';
    const h = requestHeaderMap(list);
    const http11 = minor >= 1;
    if (!http11) {
      // Envoy's checkProtocolVersion (http1/codec_impl.cc): HTTP/1.0 is refused, 426, unless accept_http_10.
      if (!this.host.acceptHttp10) {
        this.#codecError(Object.assign(new Error('Upgrade required for HTTP/1.0'), { code: 'ISM_HTTP10' }));
        return 0;
      }
      if (h['host'] === undefined && this.host.defaultHostForHttp10 !== '') h['host'] = this.host.defaultHostForHttp10;
    }
    const authority = h['host'];
    const cl = h['content-length'];
    const te = h['transfer-encoding'];
    // Envoy refuses every transfer coding but chunked alone (RFC 7230 3.3.1: codings it does not understand),
    // 501; llhttp has already refused one not ending in chunked, and one alongside Content-Length.
    if (te !== undefined && (typeof te !== 'string' || te.trim().toLowerCase() !== 'chunked')) {
      this.#codecError(Object.assign(new Error('unsupported transfer encoding'), { code: 'ISM_TRANSFER_ENCODING' }));
      return 0;
    }
    const hasBody = cl !== undefined ? cl !== '0' : te !== undefined;
    const req = new Http1Request(name, path, typeof authority === 'string' ? authority : '', this.facts.tls ? 'https' : 'http', http11 ? 'HTTP/1.1' : 'HTTP/1.0', h, hasBody, list.length >> 1, this.facts);
    if (upgrade) {
      if (name === 'CONNECT' || this.#res !== undefined) this.socket.destroy();
      else this.#upgrade = { req, raw: list };
      return 0;
    }
    if (hasBody) {
      req.bodyStream = new Http1Body(this);
      this.#parsing = req;
      this.#requestSince = this.clock.tick;
    } else req.complete = true;
    // Envoy's max_requests_per_connection: the request that reaches it is the last (ConnectionManagerImpl::newStream).
    const max = this.host.maxRequestsPerConnection;
    if (max > 0 && ++this.#requests >= max) {
      this.#draining = true;
      this.host.onMaxRequestsReached?.();
    }
    const res = new Http1Response(this, name, !http11, shouldKeepAlive && !this.#draining && !this.host.draining);
    if (this.#res === undefined) this.#dispatch(req, res);
    else {
      // Pipelined: answered after the ones before it; stop reading until caught up.
      this.#waiting.push({ req, res });
      stopReading(this.socket, this.#consumed);
    }
    return 0;
  }

  #dispatch(req: Http1Request, res: Http1Response): void {
    this.#req = req;
    this.#res = res;
    this.host.onRequest(req, res);
  }

  onBody(chunk: Buffer): void {
    const req = this.#parsing;
    const b = req?.bodyStream;
    // A body whose response already ended is read and dropped.
    if (b === undefined || b.destroyed || (req === this.#req && this.#res?.finished === true)) return;
    if (!b.push(chunk)) stopReading(this.socket, this.#consumed);
  }

  onMessageComplete(): void {
    this.#inMessage = false;
    if (this.#headList.length > 0) this.#headList = []; // trailers are not relayed
    const req = this.#parsing;
    if (req === undefined) return;
    this.#parsing = undefined;
    this.#requestSince = -1;
    req.complete = true;
    if (req.bodyStream !== undefined && !req.bodyStream.destroyed) req.bodyStream.push(null);
    if (req === this.#req && this.#res?.finished === true) this.#next();
  }

  /** The body's reader wants more: read again unless a pipelined request is waiting. */
  bodyWanted(): void {
    if (this.#waiting.length === 0 && !this.#dead) startReading(this.socket, this.#consumed);
  }

  /**
   * Envoy's ActiveStream::encodeHeaders: a response that starts before its request has all arrived closes the
   * HTTP/1.1 connection after it (`connection: close`; "we don't want to wait around for the request to
   * finish"), counted in downstream_rq_response_before_rq_complete. The client cannot be trusted to send the
   * rest: one that sent `Expect: 100-continue` and got a final answer instead never will.
   */
  onResponseHead(res: Http1Response): void {
    if (res !== this.#res || this.#req === undefined || this.#req.complete) return;
    res.closeAfter = true;
    this.host.onResponseBeforeRequestComplete?.();
  }

  onResponseEnd(res: Http1Response): void {
    if (res !== this.#res) return;
    const done = res.onDone;
    res.onDone = undefined;
    done?.(false);
    if (res.closeAfter || this.#draining) {
      this.#dead = true;
      endWithDelayedClose(this.socket, this.host.delayedCloseMs);
      return;
    }
    if (this.#req?.complete === true) this.#next();
  }

  /** The exchange is over: the next pipelined request, or idle. */
  #next(): void {
    this.#req = undefined;
    this.#res = undefined;
    const w = this.#waiting.shift();
    if (w !== undefined) {
      this.#dispatch(w.req, w.res);
      return;
    }
    const err = this.#deferredError;
    if (err !== undefined) {
      this.#deferredError = undefined;
      this.host.onCodecError(err, this.socket);
      return;
    }
    this.#idleSince = this.clock.tick;
    startReading(this.socket, this.#consumed);
  }

  /** Timeouts, checked once a tick by the connection manager. */
  check(now: number, t: Http1Timeouts): void {
    if (this.#dead) return;
    if (this.#drainUntil >= 0 && now >= this.#drainUntil && this.#res === undefined && !this.#inMessage) {
      // The drain time of a replaced listener is over: an idle connection closes now.
      this.#dead = true;
      endWithDelayedClose(this.socket, this.host.delayedCloseMs);
      return;
    }
    if (t.maxDurationTicks > 0 && this.#drainUntil < 0 && now - this.#born >= t.maxDurationTicks) {
      // Envoy's max_connection_duration starts the drain sequence: responses close the connection after them,
      // an idle one closes at the drain timeout's end (onDrainTimeout).
      this.host.onMaxDurationReached?.();
      this.drain(now + t.drainTicks);
    }
    if (t.headersTicks > 0 && this.#headSince >= 0 && now - this.#headSince > t.headersTicks) {
      this.#codecError(Object.assign(new Error('headers timeout'), { code: 'HPE_HEADERS_TIMEOUT' }));
    } else if (t.requestTicks > 0 && this.#requestSince >= 0 && now - this.#requestSince > t.requestTicks) {
      this.#requestTimeout();
    } else if (t.idleTicks > 0 && this.#idleSince >= 0 && this.#res === undefined && now - this.#idleSince > t.idleTicks) {
      this.#dead = true;
      this.host.onIdleTimeout?.();
      this.socket.destroy();
    }
  }

  /**
   * The listener drains. Every response from now on closes its connection after it. An idle connection
   * closes now (as node's closeIdleConnections), or with `untilTick` (a replaced listener: Envoy keeps its
   * connections for the drain time and discourages requests, `connection: close` on HTTP/1.1) stays open
   * until that sweep tick, so a client that sends on it meanwhile is answered instead of racing the close.
   */
  drain(untilTick?: number): void {
    this.#draining = true;
    const res = this.#res;
    if (untilTick !== undefined) {
      this.#drainUntil = untilTick;
      if (res !== undefined && !res.headersSent) res.closeAfter = true;
      return;
    }
    if (res === undefined && !this.#inMessage) {
      this.#dead = true;
      endWithDelayedClose(this.socket, this.host.delayedCloseMs);
    } else if (res !== undefined && !res.headersSent) res.closeAfter = true;
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * Envoy's request_timeout (HttpConnectionManager.request_timeout): armed while a request is still arriving,
   * disarmed once its response starts. Before that, the connection manager answers 408. After it, there is
   * no second answer: a response already complete closes the connection (Envoy resets a stream whose
   * response ended before its request, conn_manager_impl.cc doEndStream), one still going carries on.
   */
  #requestTimeout(): void {
    const res = this.#parsing !== undefined && this.#parsing === this.#req ? this.#res : undefined;
    if (res === undefined || !res.headersSent) {
      this.#codecError(Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }));
      return;
    }
    this.#requestSince = -1;
    if (res.finished) {
      this.#dead = true;
      endWithDelayedClose(this.socket, this.host.delayedCloseMs);
    }
  }

  #codecError(err: ParserError | (Error & { code: string })): void {
    if (this.#dead) return;
    this.#dead = true;
    const res = this.#res;
    if (res !== undefined && this.#parsing !== this.#req) {
      // The error is in a request pipelined behind the one being answered. Envoy's codec parses one request
      // at a time (it pauses llhttp at each message's end until the response is done, codec_impl.cc
      // onMessageCompleteBase), so the requests before it are answered first and the 400 follows them.
      stopReading(this.socket, this.#consumed);
      const last = this.#waiting[this.#waiting.length - 1];
      if (last !== undefined && !last.req.complete) {
        // The erroring message is that request's own (its body broke off): it is not answered.
        this.#waiting.pop();
        last.req.bodyStream?.destroy();
      }
      this.#deferredError = err;
      return;
    }
    // The request's response is complete (the rest of its body was being dropped): a codec reply now would
    // be a second response nobody asked for. As Envoy, which replies only before a response starts, close.
    if (res !== undefined && res.finished) {
      this.host.onLateCodecError?.(err);
      endWithDelayedClose(this.socket, this.host.delayedCloseMs);
    }
    // Bytes of a response already left: a codec reply would corrupt it, so the connection just closes.
    else if (res !== undefined && res.flushed) this.socket.destroy();
    else this.host.onCodecError(err, this.socket);
  }

  readonly #onEnd = (): void => {
    const r = this.#parser.finish();
    if (r !== undefined && typeof r !== 'number') this.#codecError(r);
    else if (this.#res === undefined) this.socket.end();
  };

  readonly #onClose = (): void => {
    this.#dead = true;
    const res = this.#res;
    this.#res = undefined;
    if (res !== undefined && !res.finished) {
      res.aborted();
      const done = res.onDone;
      res.onDone = undefined;
      done?.(true);
    }
    const b = this.#parsing?.bodyStream;
    if (b !== undefined && !b.destroyed) b.destroy();
    this.#waiting.length = 0;
    this.#parser.close();
    this.host.onClose(this);
  };

  /** Hands the socket over (upgrade): no more parsing or listening here. */
  #leave(): void {
    this.#dead = true;
    this.#parser.unconsume();
    this.socket.removeListener('end', this.#onEnd);
    this.socket.removeListener('close', this.#onClose);
    this.socket.removeListener('data', this.#onData);
    this.socket.removeListener('error', noop);
    // Until the new owner reads (pipe, 'data'), bytes wait in the stream instead of flowing to no one.
    (this.socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    this.#parser.close();
    this.host.onClose(this);
  }
}

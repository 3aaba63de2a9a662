// One HTTP/1.1 connection to an upstream host, carrying one request at a time (Envoy's HTTP/1.1 codec
// client): the request head and body written with node's socket, the response read by node's llhttp
// (consuming the socket's handle on cleartext connections, so bytes never pass through stream events) and
// handed to the dispatch handler. The pool decides what to send; this class reports when it is free
// again, which is at the end of the read that completed the response, never inside a parser callback, so
// stray bytes after a response are a protocol error on this connection instead of the next request's answer.
// Errors carry the codes the router maps to reset reasons: the socket's own for connect failures
// (ECONNREFUSED, TLS errors), UND_ERR_CONNECT_TIMEOUT, UND_ERR_SOCKET (cause: the socket error) once
// connected, and llhttp's HPE_* for malformed responses.

import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import type { DispatchController, DispatchHandler, DispatchRequest } from './cluster-handle.js';
import { HTTP1_PARSER, startReading, stopReading, type Http1Parser, type ParserCallbacks, type ParserError } from '../http/http1-parser.js';
import { expectsPayload, rawHeader, requestHead, responseHeaderMap } from '../http/http1-head.js';
import { holdFlushes, releaseFlushes } from '../http/http1-response.js';
import { batchedWrite } from '../lib/write-batch.js';
import { hostPort } from '../lib/address.js';
import type { HeaderMap } from '../http/headers.js';
import type { ConnectionEvents } from './cluster-stats.js';
import { tlsConnectUpstream } from './upstream-tls-options.js';

export interface Http1ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly localAddress?: string;
  /** tls.connect options (servername, cert, key, ca, rejectUnauthorized, ALPN ...); undefined for cleartext. */
  readonly tls?: ConnectionOptions;
  readonly maxHeaderSize: number;
  /** The cluster's connection stats (upstream_cx_*). */
  readonly events?: ConnectionEvents;
  /** The cluster's tcp_keepalive: idle ms before the first probe (0: the kernel's). Undefined: 60 s. */
  readonly tcpKeepaliveMs?: number;
  /** A Unix domain socket to connect to instead of host:port. */
  readonly path?: string;
}

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The response is done and the connection may carry another request. */
  onFree(c: Http1Connection): void;
  onClosed(c: Http1Connection): void;
}

/**
 * Whether a request target may be written: no control characters, spaces or characters above U+00FF (undici's
 * check, which was a regex here: a loop over the path costs a small fraction of RegExp.prototype.test).
 */
function isValidRequestTarget(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x21 || c > 0xff) return false;
  }
  return true;
}

export function codedError(message: string, code: string, cause?: Error): Error {
  const e = new Error(message, cause !== undefined ? { cause } : undefined) as Error & { code: string };
  e.code = code;
  return e;
}

/** One request in flight on a connection; also its DispatchController. */
export class Exchange implements DispatchController {
  conn: Http1Connection | undefined;
  done = false;
  /** Response status; 0 until the final (non-1xx) head arrives. */
  status = 0;
  paused = false;

  constructor(
    readonly req: DispatchRequest,
    readonly handler: DispatchHandler,
    readonly onAbandon: (x: Exchange) => void,
  ) {}

  pause(): void {
    this.paused = true;
    this.conn?.pauseReading();
  }

  resume(): void {
    this.paused = false;
    this.conn?.resumeReading();
  }

  get localAddress(): string | undefined {
    return this.conn?.localAddress;
  }

  abort(reason: Error): void {
    if (this.done) return;
    this.done = true;
    const c = this.conn;
    this.conn = undefined;
    if (c !== undefined) c.destroy();
    else this.onAbandon(this);
    this.handler.onResponseError(this, reason);
  }

  /** Ends the exchange with an error (not an abort): once. */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.conn = undefined;
    this.handler.onResponseError(this, err);
  }
}

export class Http1Connection implements ParserCallbacks {
  readonly socket: Socket;
  readonly #parser: Http1Parser;
  #consumed = false;
  #connected = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #x: Exchange | undefined;
  /** The response completed during the current read; the connection is freed when the read ends. */
  #completed = false;
  #keepAlive = true;
  #bodyWriting = false;
  #headList: string[] = [];
  #head = false;
  /** Requests sent on this connection. */
  requests = 0;
  /** The connection's local `address:port` once connected (%UPSTREAM_LOCAL_ADDRESS%). */
  localAddress: string | undefined = undefined;
  /** Set when the connection may not carry more requests (`connection: close` sent or asked). */
  last = false;
  /** Server's Keep-Alive timeout hint in ms (0 = none). */
  keepAliveHintMs = 0;
  idleSince = 0;
  /** When the connection was opened (for max_connection_duration). */
  readonly openedAt = Date.now();

  constructor(
    private readonly o: Http1ConnectionOptions,
    private readonly owner: ConnectionOwner,
    first: Exchange,
  ) {
    this.#x = first;
    first.conn = this;
    const parser = HTTP1_PARSER;
    if (parser === undefined) throw new Error('no HTTP/1.1 parser');
    this.#parser = parser.response(o.maxHeaderSize, this);
    const where = o.path !== undefined ? { path: o.path } : { host: o.host, port: o.port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) };
    this.socket = o.tls !== undefined ? tlsConnectUpstream({ ...o.tls, ...where }) : netConnect(where);
    const s = this.socket;
    o.events?.opened();
    s.setNoDelay(true);
    this.#timer = setTimeout(() => this.#fail(codedError(`connect timeout after ${o.connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT')), o.connectTimeoutMs);
    s.once(o.tls !== undefined ? 'secureConnect' : 'connect', () => this.#onConnect());
    s.on('error', (e: Error) => this.#fail(this.#connected ? codedError(`upstream socket error: ${e.message}`, 'UND_ERR_SOCKET', e) : e));
    s.on('end', () => this.#onEnd());
    s.on('close', () => this.#onClose());
  }

  get busy(): boolean {
    return this.#x !== undefined || !this.#connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onConnect(): void {
    this.#connected = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const s = this.socket;
    if (s.localAddress !== undefined && s.localPort !== undefined) this.localAddress = hostPort(s.localAddress, s.localPort);
    s.setKeepAlive(true, this.o.tcpKeepaliveMs ?? 60_000);
    // Cleartext: llhttp reads the connected handle natively. TLS keeps 'data' events, fed to the parser.
    if (this.o.tls === undefined) this.#consumed = this.#parser.consume(s);
    if (!this.#consumed) s.on('data', (d: Buffer) => this.onExecute(this.#parser.execute(d)));
    const x = this.#x;
    if (x !== undefined) this.#send(x);
    else this.owner.onFree(this);
  }

  /** Starts a request on this (free, connected) connection. */
  start(x: Exchange): void {
    this.#x = x;
    x.conn = this;
    if (x.paused) this.pauseReading();
    if (this.#connected) this.#send(x);
  }

  #send(x: Exchange): void {
    const r = x.req;
    if (!isValidRequestTarget(r.path)) {
      this.#x = undefined;
      x.fail(codedError('invalid request path', 'UND_ERR_INVALID_ARG'));
      this.owner.onFree(this);
      return;
    }
    this.requests++;
    x.handler.onRequestSent?.();
    const h = r.headers as HeaderMap;
    const body = r.body;
    const declared = h['content-length'];
    let chunked = false;
    let extra = '';
    if (body === null) {
      if (declared === undefined && expectsPayload(r.method)) extra = 'content-length: 0\r\n';
    } else if (declared === undefined) {
      extra = 'transfer-encoding: chunked\r\n';
      chunked = true;
    }
    if (this.last) extra += 'connection: close\r\n';
    // Sent with the other writes of this loop iteration (lib/write-batch.ts); a body follows it in order.
    batchedWrite(this.socket, requestHead(r.method, r.path, h, extra));
    if (body !== null) this.#writeBody(x, body, chunked, typeof declared === 'string' ? Number(declared) : -1);
  }

  #writeBody(x: Exchange, body: Readable, chunked: boolean, length: number): void {
    const s = this.socket;
    this.#bodyWriting = true;
    let sent = 0;
    const onDrain = (): void => {
      body.resume();
    };
    const cleanup = (): void => {
      this.#bodyWriting = false;
      s.removeListener('drain', onDrain);
    };
    s.on('drain', onDrain);
    body.on('data', (c: Buffer) => {
      if (x.done || this.#x !== x) return;
      sent += c.length;
      if (length >= 0 && sent > length) return this.#fail(codedError('request body longer than its content-length', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'));
      if (c.length === 0) return;
      let ok: boolean;
      if (chunked) {
        s.cork();
        s.write(`${c.length.toString(16)}\r\n`, 'latin1');
        s.write(c);
        ok = s.write('\r\n', 'latin1');
        s.uncork();
      } else ok = s.write(c);
      if (!ok) body.pause();
    });
    body.once('end', () => {
      cleanup();
      if (x.done || this.#x !== x) return;
      if (length >= 0 && sent !== length) return this.#fail(codedError('request body shorter than its content-length', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'));
      if (chunked) s.write('0\r\n\r\n', 'latin1');
    });
    body.once('error', (e: Error) => {
      cleanup();
      if (this.#x === x) this.#fail(e);
    });
  }

  pauseReading(): void {
    stopReading(this.socket, this.#consumed);
  }

  resumeReading(): void {
    startReading(this.socket, this.#consumed);
  }

  onHeaders(headers: string[]): void {
    for (let i = 0; i < headers.length; i++) this.#headList.push(headers[i] as string);
  }

  /** A read is being delivered: downstream writes it causes are coalesced until it ends. */
  #holding = false;

  #hold(): void {
    if (this.#holding) return;
    this.#holding = true;
    holdFlushes();
  }

  #release(): void {
    if (!this.#holding) return;
    this.#holding = false;
    releaseFlushes();
  }

  onHeadersComplete(_maj: number, _min: number, headers: string[] | undefined, _m: number | undefined, _u: string | undefined, statusCode: number | undefined, statusMessage: string | undefined, upgrade: boolean, shouldKeepAlive: boolean): number {
    this.#hold();
    let list = headers;
    if (list === undefined) {
      list = this.#headList;
      this.#headList = [];
    }
    const x = this.#x;
    const status = statusCode ?? 0;
    if (x === undefined || this.#completed || upgrade) {
      // Bytes nobody asked for (after a complete response, or an upgrade we never requested).
      this.#fail(codedError('unexpected response from upstream', 'UND_ERR_INFO'));
      return 1;
    }
    if (status < 200) {
      this.#head = false; // 1xx: informational, the real head follows
      if (status === 100 && !x.done) x.handler.onResponseContinue?.(x);
      return 0;
    }
    this.#head = true;
    this.#keepAlive = shouldKeepAlive;
    const h = responseHeaderMap(list);
    const ka = rawHeader(list, 'keep-alive');
    if (ka !== undefined) this.keepAliveHintMs = keepAliveTimeoutMs(ka);
    x.status = status;
    if (!x.done) x.handler.onResponseStart(x, status, h, statusMessage ?? '');
    return x.req.method === 'HEAD' ? 1 : 0;
  }

  onBody(chunk: Buffer): void {
    this.#hold();
    const x = this.#x;
    if (x !== undefined && !x.done) x.handler.onResponseData(x, chunk);
  }

  onMessageComplete(): void {
    if (this.#headList.length > 0) this.#headList = []; // trailers (HTTP/1.1 trailers are not relayed)
    if (!this.#head) return; // end of a 1xx
    this.#head = false;
    const x = this.#x;
    if (x === undefined) return;
    this.#completed = true;
    if (!x.done) {
      x.done = true;
      x.conn = undefined;
      x.handler.onResponseEnd(x, {});
    }
  }

  onExecute(result: number | ParserError): void {
    if (typeof result !== 'number') this.#fail(result);
    else this.#endOfRead();
    this.#release();
  }

  #endOfRead(): void {
    if (!this.#completed) return;
    this.#completed = false;
    this.#x = undefined;
    if (this.#closed) return;
    if (!this.#keepAlive || this.#bodyWriting || this.last) {
      this.destroy();
      return;
    }
    this.resumeReading(); // the last response may have been paused by backpressure
    this.owner.onFree(this);
  }

  #onEnd(): void {
    // A close-delimited body ends here; anything else in flight was cut short.
    const r = this.#parser.finish();
    // A response cut short by the close is a connection termination (as undici reports it), not a protocol error.
    if (r !== undefined && typeof r !== 'number') this.#fail(codedError(`other side closed (${r.code})`, 'UND_ERR_SOCKET'));
    else this.#endOfRead();
    if (this.#x !== undefined) this.#fail(codedError('other side closed', 'UND_ERR_SOCKET'));
    this.destroy();
    this.#release();
  }

  #onClose(): void {
    this.o.events?.closed();
    this.#release();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#x !== undefined) this.#fail(codedError('socket closed', 'UND_ERR_SOCKET'));
    if (!this.#closed) {
      this.#closed = true;
      this.#parser.close();
      this.owner.onClosed(this);
    }
  }

  /** Fails the request in flight (if any) and closes the connection. */
  #fail(err: Error): void {
    const x = this.#x;
    this.#x = undefined;
    this.#completed = false;
    this.destroy();
    x?.fail(err);
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#closed) {
      this.#closed = true;
      this.#parser.close();
      this.owner.onClosed(this);
    }
  }
}

/** `timeout=N` of a Keep-Alive header, in ms (0 when absent or invalid). */
export function keepAliveTimeoutMs(v: string): number {
  const m = /(?:^|[,;\s])timeout=(\d+)/i.exec(v);
  return m === null ? 0 : Number(m[1]) * 1000;
}

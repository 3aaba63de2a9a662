// An HTTP/2 connection to one upstream host (h2c by prior knowledge, or TLS with ALPN h2), multiplexing
// requests as streams, with the same dispatch/handler contract the router uses for undici's HTTP/1.1
// pools. Built on node:http2 rather than undici because gRPC needs response trailers (grpc-status),
// which undici's HTTP/2 client drops when the stream ends. A failed or closed session is replaced on the
// next request.

import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import type { DispatchHandler, DispatchRequest, UpstreamDispatcher } from './cluster-handle.js';
import type { ConnectionEvents } from './cluster-stats.js';
import { hostPort } from '../lib/address.js';
import { latin1WireValue } from '../http/http1-head.js';

export interface Http2UpstreamOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly localAddress?: string;
  /** TLS options (with ALPNProtocols ['h2']); undefined for h2c. */
  readonly tls?: ConnectionOptions;
  /** The cluster's connection stats (upstream_cx_*). */
  readonly events?: ConnectionEvents;
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

export class Http2Upstream implements UpstreamDispatcher {
  #session: ClientHttp2Session | undefined;
  #closed = false;

  constructor(private readonly o: Http2UpstreamOptions) {}

  #connect(): ClientHttp2Session {
    const o = this.o;
    const authority = `${o.tls !== undefined ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
    const session = h2connect(authority, {
      createConnection: () =>
        o.tls !== undefined
          ? tlsConnect({ ...o.tls, host: o.host, port: o.port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) })
          : netConnect({ host: o.host, port: o.port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) }),
    });
    const timer = setTimeout(() => session.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), o.connectTimeoutMs);
    o.events?.opened();
    session.once('connect', () => clearTimeout(timer));
    session.once('close', () => {
      o.events?.closed();
      clearTimeout(timer);
      if (this.#session === session) this.#session = undefined;
    });
    session.on('error', () => undefined); // reported to each stream
    session.on('goaway', () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.unref();
    return session;
  }

  dispatch(req: DispatchRequest, handler: DispatchHandler): boolean {
    if (this.#closed) {
      handler.onResponseError(undefined, new Error('pool closed'));
      return false;
    }
    let session = this.#session;
    if (session === undefined || session.destroyed || session.closed) {
      session = this.#connect();
      this.#session = session;
    }
    const h: OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':scheme': this.o.tls !== undefined ? 'https' : 'http' };
    for (const k in req.headers) {
      if (CONNECTION_SPECIFIC.has(k)) continue;
      if (k === 'te' && req.headers[k] !== 'trailers') continue;
      // node's http2 sends each character's low byte: values from config go as UTF-8, as over HTTP/1.1.
      const v = req.headers[k];
      h[k] = v === undefined ? v : latin1WireValue(v);
    }
    const host = req.headers['host'];
    if (host !== undefined) h[':authority'] = typeof host === 'string' ? host : host[0];
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(h, { endStream: req.body === null });
    } catch (e) {
      handler.onResponseError(undefined, e instanceof Error ? e : new Error(String(e)));
      return false;
    }
    // The stream is opened (given an id) once the session is connected: the request is attached then.
    if (handler.onRequestSent !== undefined) stream.once('ready', () => handler.onRequestSent?.());
    let done = false;
    let paused = false;
    const controller = {
      get aborted() {
        return done;
      },
      get paused() {
        return paused;
      },
      get reason() {
        return null;
      },
      get localAddress(): string | undefined {
        const sock = session.socket as { localAddress?: string; localPort?: number } | undefined;
        return sock?.localAddress !== undefined && sock.localPort !== undefined ? hostPort(sock.localAddress, sock.localPort) : undefined;
      },
      pause: () => {
        paused = true;
        stream.pause();
      },
      resume: () => {
        paused = false;
        stream.resume();
      },
      abort: () => {
        if (done) return;
        done = true;
        stream.close(constants.NGHTTP2_CANCEL);
      },
    };
    handler.onRequestStart(controller);
    let trailers: IncomingHttpHeaders = {};
    stream.on('response', (headers) => {
      if (done) return;
      const status = Number(headers[':status']);
      const out: Record<string, string | string[] | undefined> = {};
      for (const k in headers) if (k.charCodeAt(0) !== 58) out[k] = headers[k];
      handler.onResponseStart(controller, status, out);
    });
    // node says 'continue' for a 100 head (other 1xx heads are 'headers', dropped as Envoy drops them).
    stream.on('continue', () => {
      if (!done) handler.onResponseContinue?.(controller);
    });
    stream.on('data', (chunk: Buffer) => {
      if (!done) handler.onResponseData(controller, chunk);
    });
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      trailers = t;
    });
    stream.on('end', () => {
      if (done) return;
      done = true;
      const out: Record<string, string | string[] | undefined> = {};
      for (const k in trailers) if (k.charCodeAt(0) !== 58) out[k] = trailers[k];
      handler.onResponseEnd(controller, out);
    });
    stream.on('error', (e: Error) => {
      if (done) return;
      done = true;
      handler.onResponseError(controller, e);
    });
    stream.on('close', () => {
      if (done) return;
      done = true;
      const refused = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
      handler.onResponseError(controller, Object.assign(new Error(`stream reset (code ${stream.rstCode})`), { code: refused ? 'ERR_HTTP2_STREAM_ERROR' : 'UND_ERR_SOCKET' }));
    });
    if (req.body !== null) (req.body as Readable).pipe(stream);
    return true;
  }

  close(): Promise<void> {
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    if (s === undefined) return Promise.resolve();
    return new Promise((r) => s.close(() => r()));
  }
}

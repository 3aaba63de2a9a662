// HTTP/2 connections to one upstream host (h2c by prior knowledge, or TLS with ALPN h2), multiplexing
// requests as streams, with the same dispatch/handler contract the router uses for undici's HTTP/1.1
// pools. Built on node:http2 rather than undici because gRPC needs response trailers (grpc-status),
// which undici's HTTP/2 client drops when the stream ends. A failed or closed session is replaced on the
// next request. As Envoy's HTTP/2 pool: a connection carries at most max_concurrent_streams streams and
// another is opened for more (up to the cluster's max_connections; past that the least busy one takes
// it); a connection older than max_connection_duration takes no new stream and closes (GOAWAY) once its
// streams end; with connection_keepalive a PING goes out every interval (plus jitter), and a connection
// whose PING is not answered within the timeout, and that received nothing on any stream meanwhile, is
// closed (Envoy extends the timeout on any frame received).

import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { type ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import type { DispatchHandler, DispatchRequest, UpstreamDispatcher } from './cluster-handle.js';
import type { ConnectionEvents } from './cluster-stats.js';
import { hostPort } from '../lib/address.js';
import { latin1WireValue } from '../http/http1-head.js';
import { tlsConnectUpstream } from './upstream-tls-options.js';

export interface Http2UpstreamOptions {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly localAddress?: string;
  /** TLS options (with ALPNProtocols ['h2']); undefined for h2c. */
  readonly tls?: ConnectionOptions;
  /** The cluster's connection stats (upstream_cx_*). */
  readonly events?: ConnectionEvents;
  /** Streams per connection (http2_protocol_options.max_concurrent_streams); default unlimited. */
  readonly maxConcurrentStreams?: number;
  /** Connections at most, when streams need more (the cluster's max_connections). */
  readonly maxConnections?: number;
  /** common max_connection_duration (ms). */
  readonly maxConnectionDurationMs?: number;
  /** http2_protocol_options.connection_keepalive. */
  readonly keepalive?: { readonly intervalMs: number; readonly timeoutMs: number; readonly jitterPercent: number };
  /** tcp_keepalive: idle ms before the first probe (0: the kernel's); undefined: none. */
  readonly tcpKeepaliveMs?: number;
  /** A Unix domain socket to connect to instead of host:port. */
  readonly path?: string;
  /** common max_requests_per_connection: a connection that started this many streams takes no more. */
  readonly maxRequestsPerConnection?: number;
  /** common idle_timeout (ms): a connection without streams this long is closed (0: never). */
  readonly idleTimeoutMs?: number;
}

/** One connection and what the pool tracks of it. */
interface Live {
  readonly session: ClientHttp2Session;
  /** Streams open on it. */
  active: number;
  /** No new streams (max_connection_duration reached, GOAWAY received, or closing). */
  draining: boolean;
  /** When a stream of this connection last received anything (keepalive's extension). */
  lastFrameAt: number;
  /** Streams started on it (max_requests_per_connection). */
  requests: number;
  /** Closes the connection after idle_timeout without streams. */
  idle: NodeJS.Timeout | undefined;
  readonly timers: Set<NodeJS.Timeout>;
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

export class Http2Upstream implements UpstreamDispatcher {
  readonly #live: Live[] = [];
  #closed = false;

  constructor(private readonly o: Http2UpstreamOptions) {}

  #connect(): Live {
    const o = this.o;
    const authority = `${o.tls !== undefined ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
    const keepAlive = o.tcpKeepaliveMs !== undefined ? { keepAlive: true, keepAliveInitialDelay: o.tcpKeepaliveMs } : {};
    const session = h2connect(authority, {
      createConnection: () =>
        o.tls !== undefined
          ? tlsConnectUpstream(o.path !== undefined ? { ...o.tls, path: o.path } : { ...o.tls, ...keepAlive, host: o.host, port: o.port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) })
          : o.path !== undefined
            ? netConnect({ path: o.path })
            : netConnect({ ...keepAlive, host: o.host, port: o.port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) }),
    });
    const live: Live = { session, active: 0, draining: false, lastFrameAt: 0, requests: 0, idle: undefined, timers: new Set() };
    const timer = (ms: number, f: () => void): void => {
      const t = setTimeout(() => {
        live.timers.delete(t);
        f();
      }, ms);
      t.unref();
      live.timers.add(t);
    };
    const connectTimer = setTimeout(() => session.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), o.connectTimeoutMs);
    o.events?.opened();
    session.once('connect', () => {
      clearTimeout(connectTimer);
      const max = o.maxConnectionDurationMs;
      if (max !== undefined) {
        timer(max, () => {
          if (live.draining) return;
          o.events?.maxDurationReached?.();
          this.#drain(live);
        });
      }
      if (o.keepalive !== undefined) this.#keepalive(live, o.keepalive, timer);
    });
    session.once('close', () => {
      o.events?.closed();
      clearTimeout(connectTimer);
      for (const t of live.timers) clearTimeout(t);
      live.timers.clear();
      if (live.idle !== undefined) clearTimeout(live.idle);
      this.#forget(live);
    });
    session.on('error', () => undefined); // reported to each stream
    session.on('goaway', () => {
      live.draining = true;
      this.#forget(live);
    });
    session.unref();
    return live;
  }

  /** Pings every interval (plus up to jitter percent); an unanswered ping closes the connection. */
  #keepalive(live: Live, ka: NonNullable<Http2UpstreamOptions['keepalive']>, timer: (ms: number, f: () => void) => void): void {
    const next = (): void =>
      timer(ka.intervalMs + Math.floor((Math.random() * ka.intervalMs * ka.jitterPercent) / 100), () => {
        const s = live.session;
        if (s.destroyed || s.closed) return;
        const sentAt = Date.now();
        let answered = false;
        const wait = (): void =>
          timer(ka.timeoutMs, () => {
            if (answered || s.destroyed) return;
            // Anything received since the ping went out says the connection is alive (Envoy's extension).
            if (live.lastFrameAt > sentAt) {
              live.lastFrameAt = 0;
              return wait();
            }
            s.destroy(Object.assign(new Error('HTTP/2 keepalive PING timed out'), { code: 'UND_ERR_SOCKET' }));
          });
        try {
          s.ping((err) => {
            answered = true;
            if (err === null) next();
          });
        } catch {
          return; // the session is closing
        }
        wait();
      });
    next();
  }

  /** No new streams on `live`; it closes (GOAWAY) once its streams end. */
  #drain(live: Live): void {
    live.draining = true;
    this.#forget(live);
    if (live.active === 0 && !live.session.closed && !live.session.destroyed) live.session.close();
  }

  #forget(live: Live): void {
    const i = this.#live.indexOf(live);
    if (i >= 0) this.#live.splice(i, 1);
  }

  /** A connection with room for one more stream; a new one while the cluster allows more connections. */
  #pick(): Live {
    const max = this.o.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    let least: Live | undefined;
    for (const l of this.#live) {
      if (l.draining || l.session.destroyed || l.session.closed) continue;
      if (l.active < max) return l;
      if (least === undefined || l.active < least.active) least = l;
    }
    if (least !== undefined && this.#live.length >= (this.o.maxConnections ?? Number.POSITIVE_INFINITY)) return least;
    const l = this.#connect();
    this.#live.push(l);
    return l;
  }

  /** Connections open or opening. */
  get size(): number {
    return this.#live.length;
  }

  dispatch(req: DispatchRequest, handler: DispatchHandler): boolean {
    if (this.#closed) {
      handler.onResponseError(undefined, new Error('pool closed'));
      return false;
    }
    const live = this.#pick();
    const session = live.session;
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
    // A stream counts against max_concurrent_streams until its response ends or it is reset (node may emit
    // 'close' for the last stream of a connection only once the connection does something else).
    live.active++;
    live.requests++;
    if (live.idle !== undefined) clearTimeout(live.idle);
    live.idle = undefined;
    // Envoy's max_requests_per_connection counts streams: the one that reaches it is the connection's last.
    const maxRequests = this.o.maxRequestsPerConnection;
    if (maxRequests !== undefined && live.requests >= maxRequests) this.#drain(live);
    let counted = true;
    const uncount = (): void => {
      if (!counted) return;
      counted = false;
      live.active--;
      if (live.draining) {
        if (live.active === 0 && !session.closed && !session.destroyed) session.close();
        return;
      }
      const idleMs = this.o.idleTimeoutMs ?? 0;
      if (live.active === 0 && idleMs > 0 && !live.draining && !session.destroyed) {
        live.idle = setTimeout(() => {
          live.idle = undefined;
          if (live.active === 0) this.#drain(live);
        }, idleMs);
        live.idle.unref();
      }
    };
    stream.once('end', uncount);
    stream.once('close', uncount);
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
      live.lastFrameAt = Date.now();
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
      live.lastFrameAt = Date.now();
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
    const all = this.#live.splice(0);
    // A connection with streams closes once they end; an idle one is done once told (its socket is unref'd,
    // so waiting for its 'close' could outlast everything else keeping the process up).
    const closing = all.map((l) => {
      if (l.session.closed || l.session.destroyed) return undefined;
      if (l.active === 0) {
        l.session.close();
        return undefined;
      }
      return new Promise<void>((r) => l.session.close(() => r()));
    });
    return Promise.all(closing).then(() => undefined);
  }
}

// Envoy's HTTP connection manager for one filter chain: the downstream codecs (HTTP/1.1 by the
// purpose-built codec on node's strict llhttp parser, http1-server.ts, or node:http where that parser is
// not available; HTTP/2 cleartext or over TLS), request header processing (x-request-id,
// x-forwarded-for, x-forwarded-proto, absolute URIs), the route decision, the HTTP filters in order
// (fault, CORS, router), codec errors answered as Envoy answers them, WebSocket upgrades, access logs and
// stats at stream end, the HTTP/1.1 headers, request and idle timeouts (one coarse timer for all
// connections), and draining when the listener is replaced. The config is immutable; route tables are
// looked up by name per request so RDS updates apply to open connections.

import { createServer as createHttp1Server, STATUS_CODES, type IncomingMessage, type Server as Http1Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { Socket } from 'node:net';
import { absoluteForm, normalizeStreamPath, normalizeUpgradePath } from './request-target.js';
import { codecErrorReply } from './codec-error-reply.js';
import type { CompiledHcm } from '../runtime/compile-hcm.js';
import { HttpStream, type DownstreamRequest, type DownstreamResponse, type HttpProtocol } from './http-stream.js';
import { newStreamInfo } from './stream-info.js';
import { ResponseFlag } from './response-flags.js';
import type { HeaderMap, ResponseHeaderPolicy } from './headers.js';
import type { CompiledRouteConfig, RouteSelection } from './route/types.js';
import { mutateRequestHeaders } from './request-headers.js';
import { nodeRequest } from './node-request.js';
import { StreamTimers, streamDurationMs } from './stream-timeouts.js';
import type { CompletedStream, ConnectionFacts, HcmEnv } from './hcm-env.js';

export type { CompletedStream, ConnectionFacts, HcmEnv };
import { runFilters } from './filter-chain.js';
import { openTunnel } from './upgrade.js';
import { NO_SECRETS } from '../upstream/connection-pools.js';
import { HTTP1_PARSER } from './http1-parser.js';
import { Http1ServerConnection, type Http1Request, type Http1ServerHost, type Http1Timeouts } from './http1-server.js';
import { Http1Response } from './http1-response.js';
import { Http2Response, refuseConnect } from './http2-response.js';
import { armHttp2RequestTimeout } from './http2-request-timeout.js';
import { startStreamSpan } from '../tracing/span.js';
import { HcmStats } from './hcm-stats.js';
import { Http2Sessions } from './http2-sessions.js';
import { endWithDelayedClose } from '../lib/delayed-close.js';
import { factsOf, keepFacts } from './connection-facts.js';

/** How often connections are checked for the headers, request and idle timeouts (HTTP/2: idle only). */
const SWEEP_MS = 1_000;

/**
 * How long a replaced listener's idle HTTP/1.1 connections stay open: Istio's default drain duration
 * (ProxyConfig drainDuration, 45 s, which pilot-agent passes to Envoy as --drain-time-s).
 */
export const LISTENER_DRAIN_MS = 45_000;

export class HcmRuntime implements Http1ServerHost {
  #h1: Http1Server | undefined;
  #h2: Http2Server | undefined;
  readonly #sessions: Http2Sessions;
  /** Connections of the purpose-built HTTP/1.1 codec. */
  readonly #conns = new Set<Http1ServerConnection>();
  /** Sweeps so far: the coarse clock of the HTTP/1.1 timeouts. */
  readonly #clock = { tick: 0 };
  #sweeper: NodeJS.Timeout | undefined;
  readonly #timeouts: Http1Timeouts;
  #draining = false;
  /** Envoy's http.<stat_prefix>.* (hcm-stats.ts); absent where the environment has no stats (some tests). */
  readonly #stats: HcmStats | undefined;
  readonly maxHeaderSize: number;
  readonly acceptHttp10: boolean;
  readonly defaultHostForHttp10: string;
  readonly delayedCloseMs: number;
  readonly maxRequestsPerConnection: number;
  /** via and always_set_request_id_in_response, for every response head; undefined when neither is set. */
  readonly #responsePolicy: ResponseHeaderPolicy | undefined;
  /** The streams' idle and duration timers (stream-timeouts.ts). */
  readonly #timers: StreamTimers;

  constructor(
    readonly config: CompiledHcm,
    private readonly env: HcmEnv,
  ) {
    this.maxHeaderSize = config.maxRequestHeadersKb * 1024;
    this.acceptHttp10 = config.acceptHttp10;
    this.defaultHostForHttp10 = config.defaultHostForHttp10;
    this.delayedCloseMs = config.delayedCloseTimeoutMs;
    this.maxRequestsPerConnection = config.maxRequestsPerConnection;
    this.#responsePolicy =
      config.via !== '' || config.alwaysSetRequestIdInResponse || config.serverNameIfAbsent !== ''
        ? { via: config.via, alwaysSetRequestId: config.alwaysSetRequestIdInResponse, serverIfAbsent: config.serverNameIfAbsent }
        : undefined;
    this.#stats = env.stats !== undefined ? new HcmStats(env.stats, config.statPrefix) : undefined;
    this.#timers = new StreamTimers(this.#stats);
    const ticks = (ms: number): number => (ms > 0 ? Math.ceil(ms / SWEEP_MS) : 0);
    const t = (this.#timeouts = { headersTicks: ticks(config.requestHeadersTimeoutMs), requestTicks: ticks(config.requestTimeoutMs), idleTicks: ticks(config.idleTimeoutMs), maxDurationTicks: ticks(config.maxConnectionDurationMs), drainTicks: ticks(config.drainTimeoutMs) });
    this.#sessions = new Http2Sessions({ drainTimeoutMs: config.drainTimeoutMs, idleTicks: t.idleTicks, maxDurationTicks: t.maxDurationTicks, maxRequests: config.maxRequestsPerConnection, clock: this.#clock, events: this });
  }

  #streamStarted(): void {
    this.#stats?.rqActive.inc();
    this.env.onStreamStart?.();
  }

  #streamCompleted(c: CompletedStream): void {
    const st = this.#stats;
    if (st !== undefined) {
      st.rqActive.dec();
      // A stream the proxy reset carries its termination details; one the client cut short, DC.
      if (c.info.connectionTerminationDetails !== '') st.rqTxReset.inc();
      else if ((c.info.flags & ResponseFlag.DC) !== 0) st.rqRxReset.inc();
    }
    this.env.onStreamComplete(c);
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** node's HTTP/1.1 server: for sockets the codec cannot take, and the sidecar's HTTP proxy requests. */
  #http1(): Http1Server {
    if (this.#h1 !== undefined) return this.#h1;
    const c = this.config;
    const h1 = createHttp1Server({
      maxHeaderSize: this.maxHeaderSize,
      requestTimeout: c.requestTimeoutMs,
      headersTimeout: c.requestHeadersTimeoutMs,
      keepAliveTimeout: c.idleTimeoutMs,
      noDelay: true,
    });
    h1.maxHeadersCount = c.maxHeadersCount + 1;
    h1.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res, factsOf(req.socket)));
    // With listeners for these node does not answer an `expect` itself (100 Continue, or 417 for others):
    // the connection manager does, as for the purpose-built codecs (#start).
    h1.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res, factsOf(req.socket)));
    h1.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res, factsOf(req.socket)));
    h1.on('clientError', (err: Error & { code?: string }, socket: Duplex) => this.#codecError(err, socket));
    h1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    this.#h1 = h1;
    return h1;
  }

  /** Takes a connection whose protocol the listener determined (inspected bytes already unshifted). */
  accept(socket: Socket | Duplex, facts: ConnectionFacts, h2: boolean): void {
    keepFacts(socket, facts);
    const st = this.#stats;
    if (st !== undefined) {
      st.cxTotal.inc();
      (h2 ? st.cxHttp2Total : st.cxHttp1Total).inc();
      st.cxActive.inc();
      socket.once('close', () => {
        st.cxActive.dec();
        st.cxDestroy.inc();
      });
    }
    if (h2) this.#http2().emit('connection', socket);
    else if (HTTP1_PARSER !== undefined && socket instanceof Socket) this.#acceptHttp1(socket, facts);
    else this.#http1().emit('connection', socket);
  }

  #acceptHttp1(socket: Socket, facts: ConnectionFacts): void {
    const conn = new Http1ServerConnection(socket, this, facts, this.#clock);
    if (socket.destroyed || conn.socket !== socket) return;
    this.#conns.add(conn);
    this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /** The connections' timeouts, once a second while there are connections. */
  #sweep(): void {
    const now = ++this.#clock.tick;
    for (const c of this.#conns) c.check(now, this.#timeouts);
    this.#sessions.sweep(now);
    if (this.#conns.size === 0 && this.#sessions.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  onClose(conn: Http1ServerConnection): void {
    this.#conns.delete(conn);
  }

  /** A request from the HTTP/1.1 codec: the same path as handle(), without node's request/response objects. */
  onRequest(req: Http1Request, res: Http1Response): void {
    this.#streamStarted();
    const info = newStreamInfo(Date.now());
    absoluteForm(req);
    const stream = new HttpStream(req, res, info, this.env.random, res, this.config.serverName, this.#responsePolicy);
    res.onDone = (aborted) => this.#ended(stream, aborted);
    if (req.authority === '') {
      // Envoy's connection manager requires a host (conn_manager_impl.cc decodeHeaders): a local reply with
      // no body and no response flag; not a codec error, so the connection stays open.
      stream.localReply({ status: 400, body: '', flag: 0, details: 'missing_host_header' });
      return;
    }
    if (req.headerCount > this.config.maxHeadersCount) {
      res.closeAfter = true; // a codec error: Envoy closes the connection
      this.#stats?.cxProtocolError.inc();
      stream.localReply({ status: 431, body: 'Request Header Fields Too Large', flag: ResponseFlag.DPE, details: 'http1.too_many_headers' });
      return;
    }
    this.#start(stream);
  }

  /** A request of either codec: its expectation and path normalization, then #route. */
  #start(s: HttpStream): void {
    const r = s.request;
    // Envoy's ActiveStream::decodeHeaders: unless proxy_100_continue, the connection manager answers
    // `Expect: 100-continue` itself, before path normalization and the filters, and removes the expectation
    // so the upstream does not answer it again (any 100 it sends anyway is dropped by the router). With it,
    // the expectation goes upstream and the upstream's 100 comes back. Envoy matches the value exactly.
    s.bufferLimit = this.config.bufferLimit;
    if (this.config.proxy100Continue) s.proxy100Continue = true;
    else if (r.headers['expect'] === '100-continue') {
      s.sendContinue();
      delete r.headers['expect'];
    }
    if (!normalizeStreamPath(s, this.config.pathNormalization, this.#stats)) return;
    this.#route(s);
  }

  /** Request header processing, the route decision, the tracing span, then the HTTP filters. */
  #route(s: HttpStream): void {
    const r = s.request;
    const table = this.#table();
    mutateRequestHeaders(r, this.config, table?.internalOnlyHeaders);
    const decision = table?.select(r, this.env.random);
    if (this.config.tracing !== undefined) s.info.span = startStreamSpan(this.config.tracing, r, decision, this.env.random);
    if (s.tunnel !== undefined && !this.#upgradeAllowed(s, decision)) {
      // An upgrade neither the route nor the connection manager enables: Envoy's 403 local reply.
      this.#stats?.rqWsOnNonWsRoute.inc();
      return s.localReply({ status: 403, body: '', flag: 0, details: 'upgrade_failed' });
    }
    // The stream's idle and duration timers (stream-timeouts.ts), with the route's settings; none for tunnels.
    if (s.tunnel === undefined) {
      const action = decision?.kind === 'route' ? decision.action : undefined;
      const idle = action?.idleTimeoutMs ?? this.config.streamIdleTimeoutMs;
      const duration = streamDurationMs(action, this.config, r.headers);
      if (idle > 0 || duration !== undefined) this.#timers.watch(s, idle, duration);
    }
    runFilters(s, decision, this.config, this.env);
  }

  /**
   * An upgrade request (its path normalized already): a stream like any other, through the filters, whose
   * router opens a tunnel (upgrade.ts). Its answers, a local reply or the upstream's, go straight to the socket,
   * which closes after them; the stream ends (stats, access log) when the socket closes.
   */
  #startUpgrade(r: DownstreamRequest, socket: Socket, head: Buffer): void {
    this.#streamStarted();
    const info = newStreamInfo(Date.now());
    let done = false;
    const complete = (aborted: boolean): void => {
      if (done) return;
      done = true;
      this.#ended(s, aborted);
    };
    const res = new Http1Response({ socket, onResponseHead: () => undefined, onResponseEnd: () => endWithDelayedClose(socket, this.delayedCloseMs) }, r.method, false, false);
    const s = new HttpStream(r, res, info, this.env.random, res, this.config.serverName, this.#responsePolicy);
    s.tunnel = (cluster) => openTunnel(s, cluster, socket, head, this.env.secrets ?? NO_SECRETS);
    socket.once('close', () => {
      if (!res.finished) res.aborted();
      // A client gone before any answer (local or the upstream's) cut the stream short.
      complete(!res.finished && info.responseCode === 0);
    });
    this.#route(s);
  }

  /**
   * Envoy's createUpgradeFilterChain: the route's upgrade_configs decide for its streams (disabled there: refused;
   * enabled there: allowed even where the connection manager's are not), else the connection manager's.
   */
  #upgradeAllowed(s: HttpStream, decision: RouteSelection | undefined): boolean {
    const upgrade = s.request.headers['upgrade'];
    if (typeof upgrade !== 'string') return false;
    const type = upgrade.toLowerCase();
    const byRoute = decision?.kind === 'route' ? decision.action.upgrades.get(type) : undefined;
    return byRoute ?? this.config.upgrades.has(type);
  }

  /**
   * A stream of the purpose-built codecs is over: `DC` when the client went first (not when the proxy reset it:
   * Envoy sets DC for a remote close only), then stats and the access log.
   */
  #ended(s: HttpStream, aborted: boolean): void {
    const info = s.info;
    if (aborted && info.connectionTerminationDetails === '') {
      info.flags |= ResponseFlag.DC;
      info.details ||= 'downstream_remote_disconnect';
    }
    info.endNs = process.hrtime.bigint();
    s.complete();
    this.#streamCompleted({ hcm: this.config, request: s.request, info, responseHeaders: s.responseHeaders });
  }

  onUpgrade(req: Http1Request, _rawHeaders: string[], socket: Socket, head: Buffer): void {
    absoluteForm(req);
    if (!normalizeUpgradePath(req, socket, this.config.pathNormalization, this.#stats)) return;
    this.#startUpgrade(req, socket, head);
  }

  onCodecError(err: Error & { code?: string }, socket: Socket): void {
    this.#codecError(err, socket);
  }

  onIdleTimeout(): void {
    this.#stats?.cxIdleTimeout.inc();
  }

  onMaxRequestsReached(): void {
    this.#stats?.cxMaxRequestsReached.inc();
  }

  onMaxDurationReached(): void {
    this.#stats?.cxMaxDurationReached.inc();
  }

  onResponseBeforeRequestComplete(): void {
    this.#stats?.rqResponseBeforeRqComplete.inc();
  }

  #http2(): Http2Server {
    if (this.#h2 !== undefined) return this.#h2;
    const o = this.config.http2;
    const h2 = createHttp2Server({ maxHeaderListPairs: this.config.maxHeadersCount, maxSessionMemory: 64, settings: { ...o.settings } });
    h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onHttp2Stream(stream, headers));
    h2.on('session', (s: ServerHttp2Session) => {
      // The connection's facts, read once per session rather than through node's socket proxy per stream.
      keepFacts(s, factsOf(s.socket));
      this.#sessions.add(s);
      this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
      if (o.connectionWindowSize !== undefined) s.once('connect', () => s.setLocalWindowSize(o.connectionWindowSize as number));
    });
    this.#h2 = h2;
    return h2;
  }

  /**
   * Proxy stopping (`graceful` false): finish in-flight requests, close connections as they go idle.
   * Listener replaced (`graceful` true, Envoy's LDS drain): responses close their connections after them
   * (HTTP/1.1 `connection: close`, HTTP/2 GOAWAY) and idle HTTP/1.1 connections stay open for
   * LISTENER_DRAIN_MS, so a client reusing one meanwhile (a pooled upstream connection of another proxy)
   * is answered instead of having its request cut by the close.
   */
  drain(graceful = false): void {
    this.#draining = true;
    if (!graceful) this.#h1?.closeIdleConnections();
    const until = graceful ? this.#clock.tick + Math.ceil(LISTENER_DRAIN_MS / SWEEP_MS) : undefined;
    for (const c of [...this.#conns]) c.drain(until);
    this.#sessions.drain();
  }

  /** Closes every connection now. */
  close(): void {
    this.#h1?.closeAllConnections();
    for (const c of [...this.#conns]) c.close();
    this.#sessions.destroy();
  }

  /** A malformed rest of a request whose response is complete: Envoy counts every codec error. */
  onLateCodecError(): void {
    this.#stats?.cxProtocolError.inc();
  }

  /** Envoy answers codec errors itself: 400 (or 431 for oversized headers) and closes; never reaches upstream. */
  #codecError(err: Error & { code?: string; reason?: string }, socket: Duplex): void {
    const code = err.code ?? '';
    const st = this.#stats;
    if (st !== undefined) {
      if (code === 'HPE_HEADERS_TIMEOUT') st.rqHeaderTimeout.inc();
      else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') st.rqTimeout.inc();
      else st.cxProtocolError.inc();
    }
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const reply = codecErrorReply(code, typeof err.reason === 'string' ? err.reason : err.message);
    const name = this.config.serverName ?? this.config.serverNameIfAbsent;
    const server = name !== '' ? `server: ${name}\r\n` : '';
    endWithDelayedClose(socket, this.delayedCloseMs, `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}\r\ncontent-length: ${reply.body.length}\r\ncontent-type: text/plain\r\ndate: ${new Date().toUTCString()}\r\n${server}connection: close\r\n\r\n${reply.body}`);
    const info = newStreamInfo(Date.now());
    info.flags |= reply.flags;
    info.responseCode = reply.status;
    info.details = reply.details;
    info.endNs = process.hrtime.bigint();
    const f = factsOf(socket);
    this.#streamStarted();
    this.#streamCompleted({
      hcm: this.config,
      request: { method: '', path: '', authority: '', scheme: f.tls ? 'https' : 'http', protocol: 'HTTP/1.1', headers: {}, hasBody: false, body: socket, remoteAddress: f.remoteAddress, remotePort: f.remotePort, localAddress: f.localAddress, localPort: f.localPort, serverName: f.serverName, peer: f.peer },
      info,
      responseHeaders: undefined,
    });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const r = nodeRequest(req, factsOf(req.socket));
    if (!normalizeUpgradePath(r, socket, this.config.pathNormalization, this.#stats)) return;
    // node hands over its socket (a net.Socket, or a TLSSocket, which is one).
    this.#startUpgrade(r, socket as Socket, head);
  }

  /** The route table: inline, or the RDS one as it is now. */
  #table(): CompiledRouteConfig | undefined {
    const rc = this.config.routes;
    return rc.kind === 'inline' ? rc.table : this.env.routeTable(rc.name);
  }


  /** A request of node's HTTP/1.1 server. */
  handle(req: IncomingMessage, res: ServerResponse, f: ConnectionFacts): void {
    if (req.httpVersionMinor === 0 && req.httpVersionMajor === 1) {
      if (!this.config.acceptHttp10) return void this.#codecError(Object.assign(new Error('Upgrade required for HTTP/1.0'), { code: 'ISM_HTTP10' }), req.socket);
      if (req.headers.host === undefined && this.config.defaultHostForHttp10 !== '') req.headers.host = this.config.defaultHostForHttp10;
    }
    const te = req.headers['transfer-encoding'];
    if (te !== undefined && te.trim().toLowerCase() !== 'chunked') return void this.#codecError(Object.assign(new Error('unsupported transfer encoding'), { code: 'ISM_TRANSFER_ENCODING' }), req.socket);
    this.#streamStarted();
    const info = newStreamInfo(Date.now());
    const r = nodeRequest(req, f);
    const resetFns: (() => void)[] = [];
    const stream = new HttpStream(
      r,
      res as unknown as DownstreamResponse,
      info,
      this.env.random,
      {
        reset: () => req.socket.destroy(),
        onReset: (fn) => resetFns.push(fn),
        cancelWork: () => resetFns.splice(0).forEach((fn) => fn()),
      },
      this.config.serverName,
      this.#responsePolicy,
    );
    if (this.#draining) res.shouldKeepAlive = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        if (info.connectionTerminationDetails === '') {
          info.flags |= ResponseFlag.DC;
          info.details ||= 'downstream_remote_disconnect';
        }
        for (const fn of resetFns) fn();
      }
      info.endNs = process.hrtime.bigint();
      info.bytesReceived ||= 0;
      stream.complete();
      this.#streamCompleted({ hcm: this.config, request: r, info, responseHeaders: stream.responseHeaders });
    });
    if (req.rawHeaders.length / 2 > this.config.maxHeadersCount) {
      res.shouldKeepAlive = false; // a codec error: Envoy closes the connection
      this.#stats?.cxProtocolError.inc();
      stream.localReply({ status: 431, body: 'Request Header Fields Too Large', flag: ResponseFlag.DPE, details: 'http1.too_many_headers' });
      return;
    }
    this.#start(stream);
  }

  /**
   * A stream of the HTTP/2 codec, on node's core API: the request is the stream's headers and its readable
   * side, the response an Http2Response. CONNECT is answered 405, as node's compatibility server answered
   * it; an `expect` is the connection manager's, as on HTTP/1.1.
   */
  #onHttp2Stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const method = headers[':method'] ?? 'GET';
    if (method === 'CONNECT') return refuseConnect(stream);
    this.#streamStarted();
    const info = newStreamInfo(Date.now());
    // The session is there while its streams are (node types it as possibly gone).
    const f = factsOf(stream.session as Http2Session);
    // node's header object has no prototype, which V8 keeps in dictionary mode: every header the connection
    // manager and filters add grows its hash table, and every for-in over it collects and sorts its keys.
    // A plain object holding the same headers takes the shapes the HTTP/1.1 codec's maps share.
    const h: HeaderMap = {};
    for (const k in headers) h[k] = headers[k];
    const r: DownstreamRequest = {
      method,
      path: headers[':path'] ?? '/',
      authority: (headers[':authority'] ?? h['host'] ?? '') as string,
      scheme: f.tls ? 'https' : 'http',
      protocol: 'HTTP/2',
      headers: h,
      hasBody: !stream.endAfterHeaders,
      body: stream,
      remoteAddress: f.remoteAddress,
      remotePort: f.remotePort,
      localAddress: f.localAddress,
      localPort: f.localPort,
      serverName: f.serverName,
      peer: f.peer,
    };
    const session = stream.session as ServerHttp2Session;
    this.#sessions.streamStarted(session);
    const res = new Http2Response(stream, method);
    res.onResponseBeforeRequestComplete = this.#stats !== undefined ? () => this.onResponseBeforeRequestComplete() : undefined;
    const s = new HttpStream(r, res, info, this.env.random, res, this.config.serverName, this.#responsePolicy);
    res.onDone = (aborted) => {
      this.#sessions.streamEnded(session);
      this.#ended(s, aborted);
    };
    if (r.hasBody && this.config.requestTimeoutMs > 0) armHttp2RequestTimeout(s, res, stream, this.config.requestTimeoutMs, this.#stats?.rqTimeout);
    this.#start(s);
  }
}

// Envoy's listener manager, with local capture instead of iptables. It binds the listeners xDS delivers
// (bind_to_port), keeps sockets bound across updates of the same address, and runs each connection
// through its listener: inspection of the first bytes when chains need it (tls_inspector: SNI, ALPN;
// http_inspector: h2c or HTTP/1), filter chain selection, TLS termination, Istio's TCP metadata exchange
// (peer-exchange.ts), the chain's network RBAC and Wasm filters, then the terminal network filter (HTTP
// connection manager or tcp_proxy). Without
// iptables, a sidecar captures traffic itself:
// - outbound: the `use_original_dst` listener (virtualOutbound, 15001) is served on the capture address
//   as an HTTP proxy (HTTP_PROXY): each request, or CONNECT tunnel, is handed to the listener for its
//   destination port (Istio's 0.0.0.0_<port>, bind_to_port false), as Envoy hands off by original dst;
// - inbound: every destination port virtualInbound's chains name is bound on the capture address, and
//   a connection there is run through virtualInbound with that destination port.
// Replaced listeners drain as Envoy's do: in-flight requests finish, responses close their connections, and
// idle connections close after the drain time (connection-manager.ts LISTENER_DRAIN_MS).

import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../lib/logger.js';
import type { CompiledChain, CompiledListener } from '../runtime/compile-listener.js';
import { HcmRuntime, type ConnectionFacts as HttpConnectionFacts, type HcmEnv } from '../http/connection-manager.js';
import { parseClientHello, sniffHttp, MAX_CLIENT_HELLO } from './client-hello.js';
import { selectFilterChain, type ConnectionFacts } from './filter-chain-match.js';
import { runTcpProxy, type TcpProxyEnv } from './tcp-proxy.js';
import { checkClientCertificate, peerCertificateOf, requestsClientCertificate, secureContextFor } from './tls-terminator.js';
import { runNetworkRbac } from '../filters/rbac/network-filter.js';
import { runWasmOnHttpConnection, WasmNetworkChain } from '../filters/wasm/network-filter.js';
import { runPeerExchange } from './peer-exchange.js';
import type { WorkloadMetadata } from '../telemetry/workload-metadata.js';
import type { SecretSource } from '../upstream/connection-pools.js';

export interface ListenerManagerOptions {
  /** Sidecar local capture: serve outbound as an HTTP proxy and inbound ports on this address. */
  readonly captureAddress?: string;
  /** Bind wildcard listener addresses (0.0.0.0, ::) here instead (a gateway on a laptop). */
  readonly bindAddress?: string;
  /** Listener port -> the port actually bound (`isthmus proxy --port-map 8080=18080`); matching still sees the listener's port. */
  readonly portMap?: ReadonlyMap<number, number>;
  readonly env: HcmEnv & TcpProxyEnv;
  readonly secrets: SecretSource;
  readonly logger: Logger;
  /** Called for connections no chain accepts (access log NR). */
  onNoChain?(listener: string, facts: ConnectionFacts): void;
}

type Role = { readonly kind: 'listener'; readonly name: string } | { readonly kind: 'outbound-capture' } | { readonly kind: 'inbound-capture'; readonly port: number };

interface Bound {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  role: Role;
  readonly server: Server;
  /** The actual port (differs from `port` when 0 was asked). */
  readonly actualPort: number;
}

export interface BoundInfo {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function isVirtualInbound(l: CompiledListener): boolean {
  return l.name === 'virtualInbound';
}

export class ListenerManager {
  #listeners = new Map<string, CompiledListener>();
  /** Listeners reachable by original-destination handoff, by port (bind_to_port false). */
  #byPort = new Map<number, CompiledListener>();
  #bound = new Map<string, Bound>();
  readonly #hcms = new WeakMap<CompiledChain, HcmRuntime>();
  readonly #live = new Set<HcmRuntime>();
  readonly #proxyServer: HttpServer;
  #closed = false;
  /** Every accepted downstream connection, so close() can end them (server.close waits for them). */
  readonly #sockets = new Set<Socket>();

  constructor(private readonly o: ListenerManagerOptions) {
    this.#proxyServer = createHttpServer({ noDelay: true, keepAliveTimeout: 300_000 });
    this.#proxyServer.on('request', (req: IncomingMessage, res: ServerResponse) => this.#proxyRequest(req, res));
    // An `expect` is the connection manager's to answer (proxy_100_continue), not node's: with these listeners
    // node neither sends 100 Continue nor 417 itself.
    this.#proxyServer.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.#proxyRequest(req, res));
    this.#proxyServer.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => this.#proxyRequest(req, res));
    this.#proxyServer.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#proxyConnect(req, socket, head));
  }

  /** What is bound now: listener name (or capture role), address and actual port. */
  bound(): BoundInfo[] {
    return [...this.#bound.values()].map((b) => ({ name: b.role.kind === 'listener' ? b.role.name : b.role.kind === 'outbound-capture' ? 'virtualOutbound' : `virtualInbound:${b.role.port}`, address: b.host, port: b.actualPort }));
  }

  /** Applies a new set of listeners; resolves with the bind errors (the listener is then not active, as in Envoy). */
  async apply(listeners: ReadonlyMap<string, CompiledListener>): Promise<string[]> {
    const old = this.#listeners;
    this.#listeners = new Map(listeners);
    const byPort = new Map<number, CompiledListener>();
    const want = new Map<string, { host: string; port: number; role: Role }>();
    const cap = this.o.captureAddress;
    for (const l of listeners.values()) {
      if (!l.bindToPort && !isVirtualInbound(l)) {
        if (!byPort.has(l.port) || WILDCARDS.has(l.address)) byPort.set(l.port, l);
        if (!l.useOriginalDst) continue;
      }
      if (cap !== undefined && l.useOriginalDst) {
        want.set(`${cap}:${l.port}`, { host: cap, port: l.port, role: { kind: 'outbound-capture' } });
        continue;
      }
      if (cap !== undefined && isVirtualInbound(l)) {
        for (const c of l.chains) {
          const p = c.destinationPort;
          if (p === undefined || p === l.port) continue;
          want.set(`${cap}:${p}`, { host: cap, port: p, role: { kind: 'inbound-capture', port: p } });
        }
        continue;
      }
      if (!l.bindToPort) continue;
      for (const a of [l, ...l.additionalAddresses]) {
        const host = WILDCARDS.has(a.address) && this.o.bindAddress !== undefined ? this.o.bindAddress : a.address;
        const port = this.o.portMap?.get(a.port) ?? a.port;
        if (!want.has(`${host}:${port}`)) want.set(`${host}:${port}`, { host, port, role: { kind: 'listener', name: l.name } });
      }
    }
    this.#byPort = byPort;
    const errors: string[] = [];
    for (const [key, b] of this.#bound) {
      const w = want.get(key);
      if (w === undefined) {
        this.#bound.delete(key);
        b.server.close();
      } else b.role = w.role;
    }
    await Promise.all(
      [...want].filter(([key]) => !this.#bound.has(key)).map(async ([key, w]) => {
        try {
          const b = await this.#bind(key, w.host, w.port, w.role);
          this.#bound.set(key, b);
        } catch (e) {
          const msg = `${w.role.kind === 'listener' ? w.role.name : w.role.kind}: cannot bind ${w.host}:${w.port}: ${e instanceof Error ? e.message : String(e)}`;
          errors.push(msg);
          this.o.logger.warn('listener bind failed', { error: msg });
        }
      }),
    );
    // Drain connection managers of listeners that changed or left.
    for (const [name, l] of old) if (this.#listeners.get(name) !== l) this.#drainListener(l);
    return errors;
  }

  #drainListener(l: CompiledListener): void {
    for (const c of [...l.chains.map((m) => m.value), ...(l.defaultChain !== undefined ? [l.defaultChain] : [])]) {
      const h = this.#hcms.get(c);
      if (h !== undefined) {
        h.drain(true);
        this.#live.delete(h);
      }
    }
  }

  #bind(key: string, host: string, port: number, role: Role): Promise<Bound> {
    const server = createNetServer({ noDelay: true, pauseOnConnect: false });
    return new Promise((ok, fail) => {
      server.once('error', fail);
      server.listen(port, host, () => {
        server.off('error', fail);
        server.on('error', (e) => this.o.logger.warn('listener error', { key, error: e.message }));
        const a = server.address();
        const b: Bound = { key, host, port, role, server, actualPort: typeof a === 'object' && a !== null ? a.port : port };
        server.on('connection', (s: Socket) => this.#accept(s, b));
        ok(b);
      });
    });
  }

  /** Accepted connections not yet closed, on every listener (Envoy's server.total_connections). */
  get connectionCount(): number {
    return this.#sockets.size;
  }

  #accept(socket: Socket, b: Bound): void {
    socket.on('error', () => socket.destroy());
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const role = b.role;
    if (role.kind === 'outbound-capture') {
      this.#proxyServer.emit('connection', socket);
      return;
    }
    if (role.kind === 'inbound-capture') {
      const vi = this.#listeners.get('virtualInbound');
      if (vi === undefined) return void socket.destroy();
      this.#run(socket, vi, role.port, undefined);
      return;
    }
    const l = this.#listeners.get(role.name);
    if (l === undefined) return void socket.destroy();
    this.#run(socket, l, this.o.portMap !== undefined ? l.port : (socket.localPort ?? l.port), undefined);
  }

  /** Hands a connection to the listener for `port` (original-destination handoff), else to `fallback`. */
  handoff(socket: Socket | Duplex, port: number, originalDestination: string): boolean {
    const l = this.#byPort.get(port);
    if (l === undefined) return false;
    this.#run(socket, l, port, originalDestination);
    return true;
  }

  #run(socket: Socket | Duplex, l: CompiledListener, destinationPort: number, originalDestination: string | undefined): void {
    const s = socket as Socket;
    const base = {
      destinationPort,
      destinationIp: s.localAddress ?? '',
      sourceIp: s.remoteAddress ?? '',
      sourcePort: s.remotePort ?? 0,
    };
    // An inspector runs only where some chain needs what it finds and its filter_disabled does not exclude the port.
    const inspectTls = l.inspect.tls && !l.inspectorDisabled.tls(destinationPort);
    const inspectHttp = l.inspect.http && !l.inspectorDisabled.http(destinationPort);
    if (!inspectTls && !inspectHttp) {
      this.#dispatch(socket, l, { ...base, transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: [] }, originalDestination);
      return;
    }
    let buf: Buffer = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const done = (facts: ConnectionFacts): void => {
      if (timer !== undefined) clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.pause();
      if (buf.length > 0) socket.unshift(buf);
      this.#dispatch(socket, l, facts, originalDestination);
    };
    const decide = (final: boolean): void => {
      if (inspectTls) {
        const hello = parseClientHello(buf);
        if (hello.kind === 'incomplete' && !final && buf.length < MAX_CLIENT_HELLO) return;
        if (hello.kind === 'tls') return done({ ...base, transportProtocol: 'tls', serverName: hello.sni, applicationProtocols: hello.alpn });
      }
      const http = inspectHttp ? sniffHttp(buf) : 'unknown';
      if (http === 'incomplete' && !final && buf.length < 8192) return;
      const alpn = http === 'h2c' ? ['h2c'] : http === 'http/1.1' || http === 'http/1.0' ? [http] : [];
      done({ ...base, transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: alpn });
    };
    const onData = (d: Buffer): void => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      decide(false);
    };
    const onEnd = (): void => decide(true);
    socket.on('data', onData);
    socket.on('end', onEnd);
    if (l.inspectTimeoutMs > 0) timer = setTimeout(() => (l.continueOnInspectTimeout ? decide(true) : socket.destroy()), l.inspectTimeoutMs);
  }

  #dispatch(socket: Socket | Duplex, l: CompiledListener, facts: ConnectionFacts, originalDestination: string | undefined): void {
    const chain = selectFilterChain(l.chains, facts) ?? l.defaultChain;
    if (chain === undefined) {
      this.o.onNoChain?.(l.name, facts);
      socket.destroy();
      return;
    }
    const s = socket as Socket;
    const httpFacts: HttpConnectionFacts = {
      remoteAddress: facts.sourceIp,
      remotePort: facts.sourcePort,
      localAddress: facts.destinationIp,
      localPort: facts.destinationPort,
      tls: chain.tls !== undefined,
      serverName: facts.serverName,
    };
    if (chain.tls !== undefined) {
      const ctx = secureContextFor(chain.tls, this.o.secrets);
      if (typeof ctx === 'string') {
        this.o.logger.warn('TLS termination unavailable', { listener: l.name, chain: chain.name, reason: ctx });
        socket.destroy();
        return;
      }
      const offered = chain.tls.alpn.length > 0 ? chain.tls.alpn : chain.network.kind === 'hcm' ? ['h2', 'http/1.1'] : [];
      // Envoy's server ALPN callback answers SSL_TLSEXT_ERR_NOACK when nothing overlaps, so the handshake goes on
      // without ALPN (Istio clients offer `istio-http/1.1`/`istio`); Node would refuse it, so the list is only
      // given when the ClientHello shares a protocol with it.
      const alpn = offered.some((p) => facts.applicationProtocols.includes(p)) ? [...offered] : [];
      const t = chain.tls;
      const tls = new TLSSocket(s, { isServer: true, secureContext: ctx, ALPNProtocols: alpn, requestCert: requestsClientCertificate(t), rejectUnauthorized: t.requireClientCertificate && !t.acceptUntrusted });
      tls.on('error', () => tls.destroy());
      // transport_socket_connect_timeout (Istio: 15 s at gateways): a client that stalls in the handshake is cut off.
      const handshake = chain.handshakeTimeoutMs > 0 ? setTimeout(() => tls.destroy(), chain.handshakeTimeoutMs) : undefined;
      if (handshake !== undefined) tls.once('close', () => clearTimeout(handshake));
      tls.once('secure', () => {
        if (handshake !== undefined) clearTimeout(handshake);
        // A missing certificate where one is required, or a presented one that fails the validation
        // context's checks (chain, CRL, SANs, pins), closes the connection after the handshake.
        const checked = checkClientCertificate(tls, t);
        if (!checked.ok) {
          this.o.logger.debug('TLS client certificate refused', { listener: l.name, chain: chain.name, reason: checked.reason });
          tls.destroy();
          return;
        }
        const peer = checked.verified ? peerCertificateOf(tls) : undefined;
        this.#terminal(tls, chain, peer !== undefined ? { ...httpFacts, peer } : httpFacts, tls.alpnProtocol === 'h2', originalDestination ?? `${facts.destinationIp}:${facts.destinationPort}`, false);
      });
      return;
    }
    const dst = originalDestination ?? `${facts.destinationIp}:${facts.destinationPort}`;
    if (chain.network.kind === 'hcm' && facts.applicationProtocols.length === 0) {
      // codec_type AUTO: the connection manager itself tells HTTP/2 (prior knowledge) from HTTP/1.
      // HTTP/1: the server reads through 'data' once resumed. HTTP/2: the session takes the buffered bytes
      // itself on the next tick and reads the handle directly; resuming would flush them to nobody.
      sniffPreface(s, (h2) => this.#terminal(socket, chain, httpFacts, h2, dst, !h2));
      return;
    }
    // The HTTP codecs read on their own once resumed; tcp_proxy resumes when its upstream is connected.
    this.#terminal(socket, chain, httpFacts, facts.applicationProtocols.includes('h2c'), dst, chain.network.kind === 'hcm');
  }

  /** The chain's metadata exchange first (Istio puts it before every other filter), then the chain. */
  #terminal(socket: Socket | Duplex, chain: CompiledChain, facts: HttpConnectionFacts, h2: boolean, originalDestination: string, resume: boolean): void {
    const mx = chain.peerExchange;
    if (mx === undefined) return this.#serve(socket, chain, facts, h2, originalDestination, resume, undefined);
    const s = socket as Socket;
    const timeoutMs = chain.network.kind === 'tcp' ? chain.network.tcp.idleTimeoutMs : 0;
    runPeerExchange(s, mx, { own: this.o.env.workload, timeoutMs, stats: this.o.env.stats }, (o) => {
      if (o.kind === 'closed') return void s.destroy();
      if (o.kind === 'skipped') return this.#serve(socket, chain, facts, h2, originalDestination, resume, undefined);
      // HTTP after an exchange: the ALPN named the exchange, so the codec tells HTTP/2 by its preface.
      if (chain.network.kind === 'hcm') return sniffPreface(s, (isH2) => this.#serve(s, chain, facts, isH2, originalDestination, !isH2, o.peer));
      this.#serve(s, chain, facts, h2, originalDestination, resume, o.peer);
    });
  }

  /** `resume`: the connection manager reads once the socket is resumed (done right after it accepted it). */
  #serve(socket: Socket | Duplex, chain: CompiledChain, facts: HttpConnectionFacts, h2: boolean, originalDestination: string, resume: boolean, peerWorkload: WorkloadMetadata | undefined): void {
    const n = chain.network;
    if (chain.rbac.length > 0) {
      const tls = facts.tls ? { uriSans: facts.peer?.uriSans ?? [], dnsSans: facts.peer?.dnsSans ?? [], subject: facts.peer?.subject ?? '' } : undefined;
      const denied = runNetworkRbac(chain.rbac, { remoteIp: facts.remoteAddress, remotePort: facts.remotePort, localIp: facts.localAddress, localPort: facts.localPort, sni: facts.serverName, tls }, this.o.env.stats);
      if (denied !== undefined) {
        // Envoy closes the connection; the details name the deciding policy (connection_termination_details).
        this.o.logger.debug('connection denied by RBAC', { chain: chain.name, remote: `${facts.remoteAddress}:${facts.remotePort}`, details: denied });
        socket.destroy();
        return;
      }
    }
    if (n.kind === 'tcp') {
      const wasm = chain.wasm.length > 0 ? new WasmNetworkChain(chain.wasm, this.o.env.wasm, facts, 'tcp') : undefined;
      runTcpProxy(socket as Socket, n.tcp, this.o.env, originalDestination, wasm, facts.peer, peerWorkload);
      return;
    }
    // codec_type HTTP1 or HTTP2 takes the connection as that protocol whatever it starts with (and reads it as
    // that codec reads: HTTP/1.1 once resumed, HTTP/2 from what is buffered); AUTO goes by what was seen.
    if (n.hcm.codec !== 'auto' && h2 !== (n.hcm.codec === 'http2')) {
      h2 = !h2;
      resume = !h2;
    }
    let h = this.#hcms.get(chain);
    if (h === undefined) {
      h = new HcmRuntime(n.hcm, this.o.env);
      this.#hcms.set(chain, h);
      this.#live.add(h);
    }
    if (chain.wasm.length === 0) {
      h.accept(socket, facts, h2);
      if (resume) socket.resume?.();
      return;
    }
    const hcm = h;
    runWasmOnHttpConnection(chain.wasm, this.o.env.wasm, socket, facts, () => {
      hcm.accept(socket, facts, h2);
      if (resume) socket.resume?.();
    });
  }

  /** The sidecar's HTTP proxy: a plain request is handed to the HCM of the listener for its port. */
  #proxyRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    let host = req.headers.host ?? '';
    if (url.startsWith('http://')) host = new URL(url).host;
    const { port } = splitHostPort(host, 80);
    const l = this.#byPort.get(port);
    const chain = l !== undefined ? (selectFilterChain(l.chains, { destinationPort: port, destinationIp: '', sourceIp: req.socket.remoteAddress ?? '', sourcePort: req.socket.remotePort ?? 0, transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: ['http/1.1'] }) ?? l.defaultChain) : undefined;
    if (chain === undefined || chain.network.kind !== 'hcm') {
      // No HTTP listener for the port: Envoy would pass the bytes through (PassthroughCluster) or drop them.
      const vo = [...this.#listeners.values()].find((x) => x.useOriginalDst);
      const passthrough = vo?.chains.find((c) => c.value.network.kind === 'tcp' && c.destinationPort === undefined)?.value ?? vo?.defaultChain;
      const toPassthrough = passthrough?.network.kind === 'tcp' && passthrough.network.tcp.clusters.some((c) => c.name === 'PassthroughCluster');
      res.writeHead(toPassthrough ? 502 : 404, { 'content-type': 'text/plain' });
      res.end(toPassthrough ? `no HTTP listener for port ${port}; use CONNECT for pass-through traffic\n` : '');
      return;
    }
    let h = this.#hcms.get(chain);
    if (h === undefined) {
      h = new HcmRuntime(chain.network.hcm, this.o.env);
      this.#hcms.set(chain, h);
      this.#live.add(h);
    }
    h.handle(req, res, { remoteAddress: req.socket.remoteAddress ?? '', remotePort: req.socket.remotePort ?? 0, localAddress: req.socket.localAddress ?? '', localPort: port, tls: false, serverName: '' });
  }

  /** CONNECT host:port: the tunnel becomes a connection to the listener for that port (or passes through). */
  #proxyConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = req.url ?? '';
    const { port } = splitHostPort(target, 443);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    if (this.handoff(socket, port, target)) return;
    const vo = [...this.#listeners.values()].find((x) => x.useOriginalDst);
    if (vo === undefined) return void socket.destroy();
    this.#run(socket, vo, port, target);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const h of this.#live) h.close();
    this.#proxyServer.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
    await Promise.all([...this.#bound.values()].map((b) => new Promise<void>((r) => b.server.close(() => r()))));
    this.#bound.clear();
  }

  /** Stops accepting, lets in-flight requests finish and closes idle connections (graceful drain). */
  drain(): void {
    for (const b of this.#bound.values()) b.server.close();
    for (const h of this.#live) h.drain();
    this.#proxyServer.closeIdleConnections();
  }
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Reads until the bytes tell HTTP/2's connection preface from anything else, puts them back, calls `done`. */
function sniffPreface(s: Socket, done: (h2: boolean) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const finish = (h2: boolean): void => {
    s.removeListener('data', onData);
    s.removeListener('end', onEnd);
    s.pause();
    if (buf.length > 0) s.unshift(buf);
    done(h2);
  };
  const onData = (d: Buffer): void => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    const n = Math.min(buf.length, H2_PREFACE.length);
    if (buf.compare(H2_PREFACE, 0, n, 0, n) !== 0) return finish(false);
    if (n === H2_PREFACE.length) finish(true);
  };
  const onEnd = (): void => finish(false);
  s.on('data', onData);
  s.on('end', onEnd);
  s.resume();
}

export function splitHostPort(hostPort: string, defaultPort: number): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
  if (m === null) return { host: hostPort, port: defaultPort };
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: m[2] !== undefined ? Number(m[2]) : defaultPort };
}

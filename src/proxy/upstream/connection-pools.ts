// Connection pools to one upstream host (Envoy's per-host HTTP/1.1 and HTTP/2 pools): HTTP/1.1 keep-alive
// pools (http1-pool.ts on node's llhttp; undici's Pool where this Node does not expose its parser), HTTP/2
// multiplexing (h2c by prior knowledge in cleartext, ALPN over TLS), the cluster's connect timeout, idle
// timeout, bind address and transport socket. Timeouts of requests are the router's, so undici's own
// header/body timeouts are off.

import { createRequire } from 'node:module';
import type { DispatchController, DispatchHandler, HeaderValues, UpstreamDispatcher, WireProtocol } from './cluster-handle.js';
import type { ConnectionEvents } from './cluster-stats.js';
import { Http2Upstream } from './http2-upstream.js';
import { Http1Pool } from './http1-pool.js';
import { HTTP1_PARSER } from '../http/http1-parser.js';
import type { CompiledCluster, TransportSettings } from '../runtime/compile-cluster.js';
import { uncheckedChainOptions, upstreamCertificateCheck, upstreamTlsParams } from './upstream-tls-options.js';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

export type { WireProtocol } from './cluster-handle.js';

/** Secrets delivered over SDS (issue 6 fills this); a TLS context naming a missing secret cannot connect. */
export interface SecretSource {
  certificate(name: string): { readonly cert: string; readonly key: string } | undefined;
  /** A validation_context Secret: its trusted CA, and its CRL when it has one (Istio's credential `ca.crl`). */
  validation(name: string): { readonly trustedCa: string; readonly crl?: string } | undefined;
}

export const NO_SECRETS: SecretSource = { certificate: () => undefined, validation: () => undefined };

/** Envoy's transport failure reason when a TLS context's SDS secret has not arrived. */
export const SDS_MISSING = 'TLS error: Secret is not supplied by SDS';

export type PoolResult = { readonly ok: true; readonly dispatcher: UpstreamDispatcher } | { readonly ok: false; readonly transportFailure: string };

/** Where a pool connects: a host and port, or a Unix domain socket's path (no local address applies). */
export type PoolTarget = { readonly host: string; readonly port: number } | { readonly path: string };

export function createPool(
  target: PoolTarget,
  cluster: CompiledCluster,
  transport: TransportSettings,
  protocol: WireProtocol,
  secrets: SecretSource,
  bindAddress = cluster.bindAddress,
  /** auto_san_validation: the host name the upstream certificate must be valid for. */
  verifyHost?: string,
  /** Told the identities of TLS connections: the server's URI SAN after each verified handshake, and this proxy's certificate. */
  identity?: { onPeer(uriSan: string): void; onLocal(certPem: string): void },
  /** The ALPN list TLS connections offer instead of the cluster's (and, for HTTP/2, instead of `h2`); empty: the protocol's own. */
  alpnOverride?: readonly string[],
  /** The cluster's connection stats (upstream_cx_*), told of every connection the pool makes. */
  events?: ConnectionEvents,
): PoolResult {
  const tls = transport.kind === 'tls';
  const path = 'path' in target ? target.path : undefined;
  const address = 'path' in target ? 'localhost' : target.host;
  const port = 'path' in target ? 0 : target.port;
  const localAddress = path !== undefined ? undefined : bindAddress;
  const host = address.includes(':') ? `[${address}]` : address;
  const origin = `${tls ? 'https' : 'http'}://${host}:${port}`;
  const connect: Record<string, unknown> = { timeout: cluster.connectTimeoutMs };
  if (localAddress !== undefined) connect['localAddress'] = localAddress;
  if (transport.kind === 'tls') {
    let cert = transport.inlineCertificate;
    if (transport.sdsCertificate !== undefined) {
      cert = secrets.certificate(transport.sdsCertificate);
      if (cert === undefined) return { ok: false, transportFailure: SDS_MISSING };
    }
    let ca = transport.inlineTrustedCa;
    let crl = transport.crl;
    if (transport.sdsValidation !== undefined) {
      const v = secrets.validation(transport.sdsValidation);
      if (v === undefined) return { ok: false, transportFailure: SDS_MISSING };
      ca = v.trustedCa;
      // The SDS validation context's CRL replaces the static one (Envoy merges the SDS context over the default).
      crl = v.crl ?? crl;
    }
    if (transport.sni !== '') connect['servername'] = transport.sni;
    if (cert !== undefined) {
      connect['cert'] = cert.cert;
      connect['key'] = cert.key;
    }
    // Without a validation context Envoy does not verify the upstream certificate.
    if (ca !== undefined) connect['ca'] = ca;
    // With a CRL, OpenSSL checks the upstream's certificate chain against it.
    if (crl !== undefined) connect['crl'] = crl;
    connect['rejectUnauthorized'] = ca !== undefined && !transport.acceptUntrusted;
    const check = verifyHost !== undefined ? (_h: string, cert: PeerCertificate) => checkServerIdentity(verifyHost, cert) : upstreamCertificateCheck(transport);
    if (identity === undefined) connect['checkServerIdentity'] = check;
    else {
      if (cert !== undefined) identity.onLocal(cert.cert);
      connect['checkServerIdentity'] = (h: string, peer: PeerCertificate): Error | undefined => {
        const err = check(h, peer);
        if (err === undefined) {
          const uri = (peer.subjectaltname ?? '').split(/,\s*/).find((x) => x.startsWith('URI:'));
          identity.onPeer(uri === undefined ? '' : uri.slice(4));
        }
        return err;
      };
    }
    Object.assign(connect, upstreamTlsParams(transport), uncheckedChainOptions(transport, ca));
    const own = protocol === 'http2' ? ['h2'] : ['http/1.1'];
    const alpn = alpnOverride !== undefined ? (alpnOverride.length > 0 ? [...alpnOverride] : own) : transport.alpn.length > 0 ? [...transport.alpn] : own;
    connect['ALPNProtocols'] = alpn;
  }
  const common = {
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: Math.min(cluster.idleTimeoutMs, 600_000) || 4_000,
    keepAliveMaxTimeout: Math.max(cluster.idleTimeoutMs, 600_000),
    maxHeaderSize: 96 * 1024,
    connect,
  };
  if (protocol === 'http2') {
    const tlsOpts: Record<string, unknown> | undefined = tls ? { ...connect, ALPNProtocols: alpnOverride !== undefined && alpnOverride.length > 0 ? [...alpnOverride] : ['h2'] } : undefined;
    delete tlsOpts?.['timeout'];
    delete tlsOpts?.['localAddress'];
    return {
      ok: true,
      dispatcher: new Http2Upstream({
        host: address,
        port,
        ...(path !== undefined ? { path } : {}),
        connectTimeoutMs: cluster.connectTimeoutMs,
        ...(localAddress !== undefined ? { localAddress } : {}),
        ...(tlsOpts !== undefined ? { tls: tlsOpts } : {}),
        ...(events !== undefined ? { events } : {}),
        maxConcurrentStreams: cluster.http2.maxConcurrentStreams,
        ...(cluster.maxRequestsPerConnection !== undefined ? { maxRequestsPerConnection: cluster.maxRequestsPerConnection } : {}),
        idleTimeoutMs: cluster.idleTimeoutMs,
        maxConnections: cluster.thresholds.maxConnections,
        ...(cluster.maxConnectionDurationMs !== undefined ? { maxConnectionDurationMs: cluster.maxConnectionDurationMs } : {}),
        ...(cluster.http2.keepalive !== undefined ? { keepalive: cluster.http2.keepalive } : {}),
        ...(cluster.tcpKeepaliveMs !== undefined ? { tcpKeepaliveMs: cluster.tcpKeepaliveMs } : {}),
      }),
    };
  }
  if (HTTP1_PARSER !== undefined) {
    const tlsOpts: Record<string, unknown> | undefined = tls ? { ...connect } : undefined;
    delete tlsOpts?.['timeout'];
    delete tlsOpts?.['localAddress'];
    return {
      ok: true,
      dispatcher: new Http1Pool({
        host: address,
        port,
        ...(path !== undefined ? { path } : {}),
        connectTimeoutMs: cluster.connectTimeoutMs,
        ...(localAddress !== undefined ? { localAddress } : {}),
        ...(tlsOpts !== undefined ? { tls: tlsOpts } : {}),
        maxHeaderSize: common.maxHeaderSize,
        maxConnections: cluster.thresholds.maxConnections,
        maxRequestsPerConnection: cluster.maxRequestsPerConnection,
        idleTimeoutMs: cluster.idleTimeoutMs,
        ...(cluster.maxConnectionDurationMs !== undefined ? { maxConnectionDurationMs: cluster.maxConnectionDurationMs } : {}),
        ...(cluster.tcpKeepaliveMs !== undefined ? { tcpKeepaliveMs: cluster.tcpKeepaliveMs } : {}),
        ...(events !== undefined ? { events } : {}),
      }),
    };
  }
  // undici closes a connection after maxRequestsPerClient + 1 requests (it marks the socket for reset once
  // its counter reaches the limit, counting from 0), and 0 means unlimited; Envoy's
  // max_requests_per_connection counts the requests themselves. So N becomes N - 1, and a limit of 1
  // sends every request with `reset: true` (connection: close).
  const maxPerConnection = cluster.maxRequestsPerConnection;
  const { Pool } = undici();
  const pool = new Pool(origin, {
    ...common,
    connections: cluster.thresholds.maxConnections,
    pipelining: 1,
    ...(maxPerConnection !== undefined && maxPerConnection > 1 ? { maxRequestsPerClient: maxPerConnection - 1 } : {}),
  });
  // undici reports connections once connected: one that fails to connect is not counted in upstream_cx_*.
  if (events !== undefined) {
    pool.on('connect', () => events.opened());
    pool.on('disconnect', () => events.closed());
  }
  // undici starts a request (onRequestStart) as it writes it on a connected socket: that is when it is sent.
  const sent = pool.compose((dispatch) => (opts, handler) => dispatch(opts, new SentOnStart(handler as unknown as DispatchHandler) as unknown as typeof handler));
  if (maxPerConnection !== 1) return { ok: true, dispatcher: sent as unknown as UpstreamDispatcher };
  return { ok: true, dispatcher: sent.compose((dispatch) => (opts, handler) => dispatch({ ...opts, reset: true }, handler)) as unknown as UpstreamDispatcher };
}

/** Passes a request's callbacks on to `h`, telling it the request was sent when undici starts it. */
class SentOnStart implements DispatchHandler {
  constructor(private readonly h: DispatchHandler) {}

  onRequestStart(controller: DispatchController, context?: unknown): void {
    this.h.onRequestStart(controller, context);
    this.h.onRequestSent?.();
  }

  onResponseContinue(controller: DispatchController): void {
    this.h.onResponseContinue?.(controller);
  }

  onResponseStart(controller: DispatchController, status: number, headers: HeaderValues, statusMessage?: string): void {
    this.h.onResponseStart(controller, status, headers, statusMessage);
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    this.h.onResponseData(controller, chunk);
  }

  onResponseEnd(controller: DispatchController, trailers: HeaderValues): void {
    this.h.onResponseEnd(controller, trailers);
  }

  onResponseError(controller: DispatchController | undefined, error: Error): void {
    this.h.onResponseError(controller, error);
  }
}

/** undici, loaded on first use: most proxies never need it, and loading it costs every proxy's start. */
let undiciModule: typeof import('undici') | undefined;
function undici(): typeof import('undici') {
  undiciModule ??= createRequire(import.meta.url)('undici') as typeof import('undici');
  return undiciModule;
}

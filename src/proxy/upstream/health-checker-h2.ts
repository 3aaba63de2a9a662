// One HTTP/2 client connection for the HTTP/2 and gRPC health check probes of one host: opened on the first
// check (h2c by prior knowledge in cleartext, ALPN h2 over TLS), kept between checks with reuse_connection,
// and closed after a check when reuse is off, after a failure on the connection, or once the peer sent a
// GOAWAY (a graceful GOAWAY lets the check in flight finish first; Envoy's onGoAway does the same).

import { connect as h2Connect, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { tlsOptions, type ProbeTarget } from './health-checker-probe.js';
import { tlsConnectUpstream } from './upstream-tls-options.js';

export class H2Connection {
  #session: ClientHttp2Session | undefined;

  constructor(private readonly target: ProbeTarget) {}

  /** Opens a stream for one check; undefined when the connection cannot be made (a missing SDS secret). */
  request(headers: OutgoingHttpHeaders, body: Buffer | undefined): ClientHttp2Stream | undefined {
    const session = this.#session ?? this.#open();
    if (session === undefined) return undefined;
    const stream = session.request(headers, { endStream: body === undefined });
    stream.on('error', () => undefined);
    if (body !== undefined) stream.end(body);
    return stream;
  }

  #open(): ClientHttp2Session | undefined {
    const t = this.target;
    const tls = tlsOptions(t, ['h2']);
    if (!tls.ok) return undefined;
    const host = t.address.includes(':') ? `[${t.address}]` : t.address;
    const base = { host: t.address, port: t.port, ...(t.localAddress !== undefined ? { localAddress: t.localAddress } : {}) };
    const options = tls.options;
    const session = h2Connect(`${options !== undefined ? 'https' : 'http'}://${host}:${t.port}`, {
      createConnection: () => (options !== undefined ? tlsConnectUpstream({ ...base, ...options, ALPNProtocols: options.ALPNProtocols ?? ['h2'] }) : netConnect(base)),
    });
    session.on('error', () => undefined);
    // New checks never start on a session going away; the one in flight may finish (NO_ERROR) or fails.
    session.on('goaway', () => this.#forget(session));
    session.on('close', () => this.#forget(session));
    this.#session = session;
    return session;
  }

  #forget(session: ClientHttp2Session): void {
    if (this.#session === session) this.#session = undefined;
  }

  /** A check finished; `healthyConnection` is false after a network failure. */
  streamDone(healthyConnection: boolean): void {
    if (!healthyConnection || !this.target.reuseConnection) this.close();
  }

  /** A check timed out: reset its stream, and close the connection unless it is reused. */
  abortStream(stream: ClientHttp2Stream): void {
    if (!stream.destroyed) stream.close();
    if (!this.target.reuseConnection) this.close();
  }

  close(): void {
    const s = this.#session;
    this.#session = undefined;
    s?.destroy();
  }
}

// Istio's TCP metadata exchange on one connection (istio/proxy source/extensions/filters/network/
// metadata_exchange), downstream (an inbound chain's `istio.metadata_exchange` network filter) or upstream (a
// cluster's upstream filter). Only when the TLS handshake negotiated the configured ALPN protocol
// (`istio-peer-exchange`): this proxy writes its frame at once and reads the peer's before any application byte
// flows either way; the frame's bytes never reach the application, the bytes after it are put back on the socket.
// Otherwise (plaintext, plain TLS, a client that offered other protocols) nothing is written or read.
// Differences from Istio, which writes its frame on the first byte in either direction: writing at once is what
// an Istio peer waits for anyway; a peer that closes inside its frame closes the connection here (Istio passes
// the partial frame on). Envoy's counters: metadata_exchange.alpn_protocol_found, alpn_protocol_not_found,
// initial_header_not_found, header_not_found, metadata_added.

import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Counter } from '../stats/metric.js';
import type { StatsScope } from '../stats/stats-store.js';
import type { OwnWorkload } from '../telemetry/istio-metrics.js';
import type { PeerExchangeConfig } from '../telemetry/peer-exchange-config.js';
import { peerExchangeFrameOf, PeerExchangeReader } from '../telemetry/peer-exchange-wire.js';
import type { WorkloadMetadata } from '../telemetry/workload-metadata.js';

export type PeerExchangeOutcome =
  /** The connection did not negotiate the protocol: no exchange, the peer is unknown. */
  | { readonly kind: 'skipped' }
  /** Frames were exchanged; `peer` is undefined when the peer's was not usable. */
  | { readonly kind: 'exchanged'; readonly peer: WorkloadMetadata | undefined }
  /** The connection closed, failed or stayed silent (`timeoutMs`) before the peer's frame came. */
  | { readonly kind: 'closed'; readonly reason: string };

export interface PeerExchangeOptions {
  readonly own: OwnWorkload | undefined;
  /** 0: wait as long as the connection lives. */
  readonly timeoutMs: number;
  readonly stats?: StatsScope | undefined;
}

interface ExchangeCounters {
  readonly found: Counter;
  readonly notFound: Counter;
  readonly initialHeaderNotFound: Counter;
  readonly headerNotFound: Counter;
  readonly added: Counter;
}

const counters = new WeakMap<StatsScope, ExchangeCounters>();

function countersOf(stats: StatsScope | undefined): ExchangeCounters | undefined {
  if (stats === undefined) return undefined;
  let c = counters.get(stats);
  if (c === undefined) {
    const s = stats.scope('metadata_exchange');
    c = {
      found: s.counter('alpn_protocol_found'),
      notFound: s.counter('alpn_protocol_not_found'),
      initialHeaderNotFound: s.counter('initial_header_not_found'),
      headerNotFound: s.counter('header_not_found'),
      added: s.counter('metadata_added'),
    };
    counters.set(stats, c);
  }
  return c;
}

/** Whether `socket` negotiated the exchange's protocol (a TLS connection this proxy terminated or opened). */
export function negotiatedPeerExchange(socket: Socket, config: PeerExchangeConfig): boolean {
  return socket instanceof TLSSocket && socket.alpnProtocol === config.protocol;
}

/**
 * Runs the exchange on `socket` when it negotiated the protocol, then calls `done` once (synchronously when
 * skipped). On `exchanged` the socket is paused with the bytes that followed the peer's frame put back.
 */
export function runPeerExchange(socket: Socket, config: PeerExchangeConfig, o: PeerExchangeOptions, done: (outcome: PeerExchangeOutcome) => void): void {
  const c = countersOf(o.stats);
  if (!negotiatedPeerExchange(socket, config)) {
    c?.notFound.inc();
    return done({ kind: 'skipped' });
  }
  c?.found.inc();
  const reader = new PeerExchangeReader();
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const finish = (outcome: PeerExchangeOutcome, rest?: Buffer): void => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onClose);
    socket.pause();
    if (rest !== undefined && rest.length > 0 && !socket.destroyed) socket.unshift(rest);
    done(outcome);
  };
  const onData = (chunk: Buffer): void => {
    const r = reader.push(chunk);
    if (r.kind === 'more') return;
    if (r.kind === 'done') return finish({ kind: 'exchanged', peer: r.peer }, r.rest);
    if (r.reason.startsWith('incorrect magic')) c?.initialHeaderNotFound.inc();
    else c?.headerNotFound.inc();
    finish({ kind: 'exchanged', peer: undefined }, r.rest);
  };
  const onEnd = (): void => finish({ kind: 'closed', reason: 'the peer closed during the metadata exchange' });
  const onClose = (): void => finish({ kind: 'closed', reason: 'the connection closed during the metadata exchange' });
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  if (o.timeoutMs > 0) timer = setTimeout(() => finish({ kind: 'closed', reason: 'idle_timeout' }), o.timeoutMs);
  socket.write(peerExchangeFrameOf(o.own));
  c?.added.inc();
  socket.resume();
}

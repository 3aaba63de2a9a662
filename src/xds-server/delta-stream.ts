// DeltaAggregatedResources (incremental xDS), per the xDS protocol's incremental variant:
//  - subscriptions change by resource_names_subscribe / _unsubscribe (the first request for Listener or
//    Cluster that names nothing is the legacy wildcard; `*` subscribes to it explicitly);
//  - the client's view starts from initial_resource_versions (reconnect), so only what differs is sent;
//  - a response carries the resources whose version differs from the client's view and, in
//    removed_resources, subscribed resources that were deleted or do not exist (told once);
//  - ACK and NACK name the response by nonce; a NACK is recorded once and nothing is re-sent until the
//    config changes. Unlike SotW, a request with an old nonce still changes the subscription (it is a
//    delta, not a state), only its ACK/NACK is void.

import { create } from '@bufbuild/protobuf';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  DeltaDiscoveryResponseSchema,
  ResourceSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type Resource,
} from '../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { isXdsTypeUrl, shortTypeName } from '../xds/type-urls.js';
import { grpcCodeName, type Connection, type StreamHost, type WatchState } from './connection.js';
import { selectResources, type ProxyGeneration } from './generation.js';
import { metricType } from './metrics.js';
import { StreamBase } from './stream-base.js';

/** Unacknowledged responses remembered per type; older ones are dropped (the client has moved on). */
const MAX_PENDING = 64;

export class DeltaStream extends StreamBase<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  constructor(host: StreamHost, call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) {
    super(host, call, 'delta');
  }

  protected handle(req: DeltaDiscoveryRequest, conn: Connection): void {
    const { logger } = this.host;
    const typeUrl = req.typeUrl;
    if (!isXdsTypeUrl(typeUrl)) {
      logger.warn('ADS: delta request for a type this server does not serve; ignored', { connection: conn.id, type: typeUrl });
      return;
    }
    const first = !conn.watches.has(typeUrl);
    const w = conn.watch(typeUrl);
    if (first) {
      // The client already runs with these (reconnect): start its view, and what it acknowledged, from them.
      for (const [n, v] of Object.entries(req.initialResourceVersions)) w.sent.set(n, v);
      w.acked = new Map(w.sent);
      w.mustRespond = true;
    }
    // A first request's nonce belongs to an earlier stream (reconnect): nothing here to acknowledge.
    if (!first && req.responseNonce !== '') this.acknowledge(req, conn, w);
    const changed = w.subscription.apply(req.resourceNamesSubscribe, req.resourceNamesUnsubscribe, first);
    for (const n of [...w.sent.keys()]) {
      if (w.subscription.covers(n)) continue;
      w.sent.delete(n);
      w.acked.delete(n);
    }
    if (first || changed || req.resourceNamesSubscribe.length > 0) {
      logger.debug('ADS: delta subscription', {
        connection: conn.id,
        type: shortTypeName(typeUrl),
        subscribe: req.resourceNamesSubscribe.length,
        unsubscribe: req.resourceNamesUnsubscribe.length,
      });
      this.respond(w);
    }
  }

  private acknowledge(req: DeltaDiscoveryRequest, conn: Connection, w: WatchState): void {
    const { logger, metrics, clock } = this.host;
    const nonce = req.responseNonce;
    const typeUrl = w.typeUrl;
    if (!w.pending.has(nonce)) {
      if (req.errorDetail !== undefined && w.lastError?.nonce === nonce) return; // a repeated NACK
      metrics.expiredNonce.inc({ type: metricType(typeUrl) });
      logger.debug('ADS: delta request with an unknown or old nonce; its ACK/NACK is ignored', { connection: conn.id, type: shortTypeName(typeUrl), nonce });
      return;
    }
    if (req.errorDetail !== undefined) {
      w.pending.delete(nonce);
      const nack = { typeUrl, nonce, code: grpcCodeName(req.errorDetail.code), message: req.errorDetail.message, time: clock.now() };
      if (conn.recordNack(w, nack)) {
        metrics.rejected(typeUrl, conn.proxy.id, nack.code);
        logger.warn(`ADS:${shortTypeName(typeUrl)}: ACK ERROR`, { connection: conn.id, nonce, code: nack.code, message: nack.message });
      }
      return;
    }
    // An ACK covers this response and any earlier one still unacknowledged (responses apply in order).
    for (const [n, change] of [...w.pending]) {
      for (const [name, v] of change.set) w.acked.set(name, v);
      for (const name of change.removed) w.acked.delete(name);
      w.pending.delete(n);
      if (n === nonce) break;
    }
    w.nonceAcked = nonce;
    w.lastError = undefined;
  }

  protected respond(w: WatchState, generation?: ProxyGeneration): boolean {
    const gen = generation ?? this.host.generate(this.connection.proxy);
    if (gen === undefined) {
      w.mustRespond = true;
      return false;
    }
    const startedAt = this.host.clock.now();
    const sub = w.subscription;
    const desired = selectResources(gen.byType.get(w.typeUrl), (n) => sub.covers(n));
    const resources: Resource[] = [];
    const set = new Map<string, string>();
    const removed: string[] = [];
    for (const [name, r] of desired) {
      if (w.sent.get(name) === r.version) continue;
      resources.push(create(ResourceSchema, { name, version: r.version, resource: r.any }));
      set.set(name, r.version);
    }
    for (const [name, v] of w.sent) {
      if (desired.has(name) || v === '') continue;
      if (sub.covers(name)) removed.push(name);
      else w.sent.delete(name);
    }
    for (const name of sub.names) if (!desired.has(name) && !w.sent.has(name)) removed.push(name);
    if (resources.length === 0 && removed.length === 0 && !w.mustRespond) return false;

    const nonce = this.host.nextNonce();
    const res = create(DeltaDiscoveryResponseSchema, {
      systemVersionInfo: gen.snapshotVersion,
      resources,
      typeUrl: w.typeUrl,
      removedResources: removed,
      nonce,
      controlPlane: { identifier: this.host.controlPlaneId },
    });
    for (const [name, v] of set) w.sent.set(name, v);
    // A name the client asked for by name is remembered as absent, so it is told only once.
    for (const name of removed) {
      if (sub.isExplicit(name)) w.sent.set(name, '');
      else w.sent.delete(name);
    }
    w.pending.set(nonce, { set, removed });
    if (w.pending.size > MAX_PENDING) {
      const oldest = w.pending.keys().next();
      if (oldest.done !== true) w.pending.delete(oldest.value);
    }
    w.nonceSent = nonce;
    w.lastSendTime = startedAt;
    w.mustRespond = false;
    this.write(res, w.typeUrl, startedAt);
    this.host.logger.debug('ADS: delta PUSH', {
      connection: this.connection.id,
      type: shortTypeName(w.typeUrl),
      nonce,
      resources: resources.length,
      removed: removed.length,
    });
    return true;
  }
}

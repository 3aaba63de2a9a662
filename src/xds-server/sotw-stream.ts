// StreamAggregatedResources (state of the world), following the xDS protocol and istiod's
// ShouldRespond (pilot/pkg/xds/ads.go, pkg/xds/server.go):
//  - a request with no nonce (or for a type not seen yet) is an initial request: always answered;
//  - a nonce other than the last one sent is stale: ignored (the client re-sends its full state with
//    the next ACK; a stale request's names are never authoritative);
//  - error_detail is a NACK: recorded once per nonce, the last acknowledged state stays, nothing is
//    re-sent until the config changes;
//  - otherwise it is an ACK; if the names changed it is also a subscription change and is answered.
// Listener and Cluster responses carry every subscribed resource (a missing one means deleted); routes,
// endpoints and secrets carry the subscribed ones that exist. A push sends a type only when the
// (name, version) set it would send differs from the last one sent. A response's encoding is shared with
// every stream sent the same resources (response-encoding.ts); only the nonce is encoded per stream.

import { create } from '@bufbuild/protobuf';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse } from '../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { isXdsTypeUrl, requiresFullState, shortTypeName } from '../xds/type-urls.js';
import { grpcCodeName, type Connection, type StreamHost, type WatchState } from './connection.js';
import { sameVersions, selectResources, typeVersion, versionsOf, type GeneratedResource, type ProxyGeneration } from './generation.js';
import { metricType } from './metrics.js';
import { StreamBase } from './stream-base.js';
import { encodeResponse, encodeResponseBody, setEncoding } from './response-encoding.js';

export class SotwStream extends StreamBase<DiscoveryRequest, DiscoveryResponse> {
  constructor(host: StreamHost, call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) {
    super(host, call, 'sotw');
  }

  protected handle(req: DiscoveryRequest, conn: Connection): void {
    const { logger, metrics, clock } = this.host;
    const typeUrl = req.typeUrl;
    if (!isXdsTypeUrl(typeUrl)) {
      logger.warn('ADS: request for a type this server does not serve; ignored', { connection: conn.id, type: typeUrl });
      return;
    }
    const type = shortTypeName(typeUrl);
    const nonce = req.responseNonce;
    const known = conn.watches.get(typeUrl);
    if (known === undefined || nonce === '') {
      const w = conn.watch(typeUrl);
      w.subscription.replace(req.resourceNames);
      w.mustRespond = true;
      logger.debug('ADS: initial request', { connection: conn.id, type, resources: req.resourceNames.length });
      this.respond(w);
      return;
    }
    const w = known;
    if (nonce !== w.nonceSent) {
      metrics.expiredNonce.inc({ type: metricType(typeUrl) });
      logger.debug('ADS: stale nonce; request ignored', { connection: conn.id, type, nonce, last: w.nonceSent });
      return;
    }
    if (req.errorDetail !== undefined) {
      const nack = { typeUrl, nonce, code: grpcCodeName(req.errorDetail.code), message: req.errorDetail.message, time: clock.now() };
      if (conn.recordNack(w, nack)) {
        metrics.rejected(typeUrl, conn.proxy.id, nack.code);
        logger.warn(`ADS:${type}: ACK ERROR`, { connection: conn.id, nonce, code: nack.code, message: nack.message });
      }
    } else {
      if (w.nonceAcked !== nonce) {
        w.nonceAcked = nonce;
        w.acked = w.sent;
      }
      w.lastError = undefined;
    }
    if (w.subscription.replace(req.resourceNames)) {
      w.mustRespond = true;
      logger.debug('ADS: subscription changed', { connection: conn.id, type, resources: req.resourceNames.length });
      this.respond(w);
    }
  }

  /** Sends the type's current state if it differs from the last response (or a response is owed). */
  protected respond(w: WatchState, generation?: ProxyGeneration): boolean {
    const gen = generation ?? this.host.generate(this.connection.proxy);
    if (gen === undefined) {
      w.mustRespond = true;
      return false;
    }
    const startedAt = this.host.clock.now();
    const selected = selectResources(gen.byType.get(w.typeUrl), (n) => w.subscription.covers(n));
    const versions = versionsOf(selected);
    if (!w.mustRespond && sameVersions(versions, w.sent)) return false;
    const nonce = this.host.nextNonce();
    const versionInfo = typeVersion(versions);
    // Endpoints and routes are not full-state types: a push may carry only what changed (Istio's partial
    // EDS push; xDS protocol "Resource types and full-state responses"). version_info names the whole set.
    const partial = !w.mustRespond && !requiresFullState(w.typeUrl) && w.sent.size > 0 ? changedOnly(selected, w.sent) : undefined;
    const sending = partial ?? selected;
    const res = create(DiscoveryResponseSchema, {
      versionInfo,
      resources: [...sending.values()].map((r) => r.any),
      typeUrl: w.typeUrl,
      nonce,
      controlPlane: { identifier: this.host.controlPlaneId },
    });
    const body = partial !== undefined ? encodeResponseBody(w.typeUrl, versionInfo, partial.values()) : this.host.bodies.body(w.typeUrl, versionInfo, () => selected.values());
    setEncoding(res, encodeResponse(body, nonce, this.host.controlPlaneId));
    w.nonceSent = nonce;
    w.sent = versions;
    w.versionInfoSent = versionInfo;
    w.lastSendTime = startedAt;
    w.mustRespond = false;
    this.write(res, w.typeUrl, startedAt);
    this.host.logger.debug('ADS: PUSH', { connection: this.connection.id, type: shortTypeName(w.typeUrl), nonce, version: versionInfo, resources: sending.size, partial: partial !== undefined });
    return true;
  }
}

/**
 * The resources whose version differs from what the proxy has; undefined (send everything) when that is
 * not smaller, or when a resource the proxy has is no longer in the set.
 */
function changedOnly(selected: ReadonlyMap<string, GeneratedResource>, sent: ReadonlyMap<string, string>): Map<string, GeneratedResource> | undefined {
  const changed = new Map<string, GeneratedResource>();
  for (const [name, r] of selected) if (sent.get(name) !== r.version) changed.set(name, r);
  if (changed.size === 0 || changed.size === selected.size) return undefined;
  for (const name of sent.keys()) if (!selected.has(name)) return undefined;
  return changed;
}

// One state-of-the-world ADS stream (StreamAggregatedResources), Envoy-like: wildcard CDS and LDS, then
// EDS, RDS and SDS for the names the accepted clusters and listeners need. Each response is decoded and
// validated whole: a valid one becomes the type's table and is ACKed (the request repeats version_info,
// the nonce and the subscribed names); an invalid one is NACKed with every problem in error_detail and the
// last good table stays. Listener and Cluster responses are full state (a missing resource is deleted);
// endpoint, route and secret responses carry the resources they carry, the others stay as they were
// (xds_protocol "Resource types and full-state responses"). Resources of names not subscribed are ignored.

import { create } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema, type DiscoveryRequest, type DiscoveryResponse } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, shortTypeName } from '../../xds/type-urls.js';
import { checkResource, unpackResource, type ProxyTypeUrl } from './validate.js';
import { isWildcardType, type AnyEntry } from './xds-state.js';
import { NACK_CODE, isProxyType, nowIso, rejectionMessage, type AdsSession, type SessionContext } from './session.js';

export class SotwSession implements AdsSession<DiscoveryResponse> {
  readonly #nonce = new Map<ProxyTypeUrl, string>();
  /** Types requested on this stream. */
  readonly #requested = new Set<ProxyTypeUrl>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly write: (r: DiscoveryRequest) => void,
  ) {}

  start(): void {
    this.#request(CLUSTER_TYPE);
    this.#request(LISTENER_TYPE);
    for (const t of [ENDPOINT_TYPE, ROUTE_TYPE, SECRET_TYPE] as const) if (this.ctx.state.names(t).length > 0) this.#request(t);
  }

  #request(type: ProxyTypeUrl, errorMessage?: string): void {
    this.#requested.add(type);
    this.write(
      create(DiscoveryRequestSchema, {
        node: this.ctx.node,
        typeUrl: type,
        versionInfo: this.ctx.state.version(type),
        responseNonce: this.#nonce.get(type) ?? '',
        resourceNames: [...this.ctx.state.names(type)],
        ...(errorMessage !== undefined ? { errorDetail: { code: NACK_CODE, message: errorMessage } } : {}),
      }),
    );
  }

  handle(r: DiscoveryResponse): void {
    const { state, logger } = this.ctx;
    if (!isProxyType(r.typeUrl)) {
      logger.warn('xDS response of a type not subscribed; ignored', { typeUrl: r.typeUrl });
      return;
    }
    const type = r.typeUrl;
    this.#nonce.set(type, r.nonce);
    const problems: string[] = [];
    const carried: string[] = [];
    const accepted = new Map<string, AnyEntry>();
    const now = nowIso(this.ctx.clock);
    r.resources.forEach((any, i) => {
      const u = unpackResource(type, any, i);
      if (!u.ok) return void problems.push(...u.problems);
      carried.push(u.name);
      if (!state.wants(type, u.name)) return;
      if (accepted.has(u.name)) return void problems.push(`${u.name}: duplicate resource name in one response`);
      const d = checkResource(type, u.message, u.name, i, this.ctx.extraChecks, this.ctx.compile);
      if (!d.ok) problems.push(...d.problems);
      else accepted.set(d.name, { message: d.message, compiled: d.compiled, version: r.versionInfo, lastUpdated: now });
    });
    state.answered(type, carried);
    if (problems.length > 0) {
      const message = rejectionMessage(type, r.versionInfo, problems);
      state.reject(type, message);
      logger.warn('xDS update rejected', { type: shortTypeName(type), version: r.versionInfo, problems });
      this.#request(type, message);
      this.ctx.notify();
      return;
    }
    let next: Map<string, AnyEntry> = accepted;
    if (!isWildcardType(type)) {
      next = new Map(state.table(type) as ReadonlyMap<string, AnyEntry>);
      for (const [n, e] of accepted) next.set(n, e);
    }
    const changed = state.accept(type, next, r.versionInfo, accepted);
    this.#request(type); // ACK
    for (const t of changed) if (this.#requested.has(t) || state.names(t).length > 0) this.#request(t);
    this.ctx.notify();
  }
}

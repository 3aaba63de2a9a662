// One incremental ADS stream (DeltaAggregatedResources), following the xDS protocol's incremental variant
// and Envoy's client (source/extensions/config_subscription/grpc/delta_subscription_state.cc):
//  - the first request of a type on a stream carries the node (first message only), every name the client
//    wants (CDS and LDS: the legacy wildcard, an empty subscribe list) and, in initial_resource_versions,
//    the version of each resource it holds, so a reconnect is not answered with what it already has;
//  - later subscription changes send only resource_names_subscribe / _unsubscribe, without a nonce;
//  - a response adds or updates the resources it carries (each with its own version) and deletes those in
//    removed_resources; it is checked whole (duplicate names, a name both updated and removed, type URLs,
//    the resources' own checks and the compile hook) and ACKed by its nonce, or NACKed with every problem
//    in error_detail while the last good table stays;
//  - for types not subscribed by wildcard, resources of names not subscribed are ignored; a resource
//    without a body and with the version the client holds is a heartbeat.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { DeltaDiscoveryRequestSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, shortTypeName } from '../../xds/type-urls.js';
import { checkResource, unpackResource, type ProxyTypeUrl } from './validate.js';
import type { AnyEntry } from './xds-state.js';
import { NACK_CODE, isProxyType, nowIso, rejectionMessage, type AdsSession, type SessionContext } from './session.js';

export class DeltaSession implements AdsSession<DeltaDiscoveryResponse> {
  /** Per type opened on this stream: the explicit names the server has been told. */
  readonly #told = new Map<ProxyTypeUrl, Set<string>>();
  #nodeSent = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly write: (r: DeltaDiscoveryRequest) => void,
  ) {}

  start(): void {
    this.#open(CLUSTER_TYPE);
    this.#open(LISTENER_TYPE);
    for (const t of [ENDPOINT_TYPE, ROUTE_TYPE, SECRET_TYPE] as const) if (this.ctx.state.names(t).length > 0) this.#open(t);
  }

  #send(fields: MessageInitShape<typeof DeltaDiscoveryRequestSchema> & { typeUrl: ProxyTypeUrl }): void {
    const node = this.#nodeSent ? {} : { node: this.ctx.node };
    this.#nodeSent = true;
    this.write(create(DeltaDiscoveryRequestSchema, { ...node, ...fields }));
  }

  /** The first request of a type on this stream. */
  #open(type: ProxyTypeUrl): void {
    const names = this.ctx.state.names(type);
    this.#told.set(type, new Set(names));
    const initialResourceVersions: Record<string, string> = {};
    for (const [n, e] of this.ctx.state.table(type)) initialResourceVersions[n] = e.version;
    this.#send({ typeUrl: type, resourceNamesSubscribe: [...names], initialResourceVersions });
  }

  /** Tells the server what changed in a type's subscription since it was last told. */
  #resubscribe(type: ProxyTypeUrl): void {
    const names = this.ctx.state.names(type);
    const told = this.#told.get(type);
    if (told === undefined) {
      if (names.length > 0) this.#open(type);
      return;
    }
    const wanted = new Set(names);
    const subscribe = names.filter((n) => !told.has(n));
    const unsubscribe = [...told].filter((n) => !wanted.has(n)).sort();
    if (subscribe.length === 0 && unsubscribe.length === 0) return;
    this.#told.set(type, wanted);
    this.#send({ typeUrl: type, resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: unsubscribe });
  }

  handle(r: DeltaDiscoveryResponse): void {
    const { state, logger } = this.ctx;
    if (!isProxyType(r.typeUrl)) {
      logger.warn('xDS delta response of a type not subscribed; ignored', { typeUrl: r.typeUrl });
      return;
    }
    const type = r.typeUrl;
    const table = state.table(type) as ReadonlyMap<string, AnyEntry>;
    const problems: string[] = [];
    const seen = new Set<string>();
    const answered: string[] = [];
    const accepted = new Map<string, AnyEntry>();
    const now = nowIso(this.ctx.clock);
    r.resources.forEach((res, i) => {
      const name = res.name;
      if (seen.has(name)) return void problems.push(`${name}: duplicate name among added/updated resources`);
      seen.add(name);
      if (!state.wants(type, name)) return;
      answered.push(name);
      if (res.resource === undefined) {
        if (table.get(name)?.version === res.version || res.aliases.length > 0) return; // heartbeat, or an unresolved alias
        return void problems.push(`${name === '' ? `resource index ${i}` : name}: resource: must be set (only a heartbeat with the version the proxy holds may omit it)`);
      }
      const u = unpackResource(type, res.resource, i);
      if (!u.ok) return void problems.push(...u.problems);
      if (u.name !== name) return void problems.push(`${name === '' ? `resource index ${i}` : name}: name: the resource inside is named "${u.name}"`);
      const d = checkResource(type, u.message, u.name, i, this.ctx.extraChecks, this.ctx.compile);
      if (!d.ok) problems.push(...d.problems);
      else accepted.set(name, { message: d.message, compiled: d.compiled, version: res.version, lastUpdated: now });
    });
    for (const name of r.removedResources) {
      if (seen.has(name)) problems.push(`${name}: duplicate name in the union of added/updated and removed resources`);
      seen.add(name);
      answered.push(name);
    }
    state.answered(type, answered);
    if (problems.length > 0) {
      const message = rejectionMessage(type, r.systemVersionInfo, problems);
      state.reject(type, message);
      logger.warn('xDS delta update rejected', { type: shortTypeName(type), version: r.systemVersionInfo, problems });
      this.#send({ typeUrl: type, responseNonce: r.nonce, errorDetail: { code: NACK_CODE, message } });
      this.ctx.notify();
      return;
    }
    const next = new Map(table);
    for (const name of r.removedResources) next.delete(name);
    for (const [n, e] of accepted) next.set(n, e);
    const changed = state.accept(type, next, r.systemVersionInfo, accepted);
    this.#send({ typeUrl: type, responseNonce: r.nonce }); // ACK
    for (const t of changed) this.#resubscribe(t);
    this.ctx.notify();
  }
}

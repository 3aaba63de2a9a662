// The proxy's ADS client (state of the world), Envoy-like: wildcard CDS and LDS, then EDS for the EDS
// clusters and RDS for the route names the HTTP connection managers use. Each response is decoded and
// validated whole (validate.ts): a valid one replaces the type's immutable table (name -> resource) and
// is ACKed; an invalid one is NACKed with every problem in error_detail and the last good table stays.
// When the stream ends it reconnects with exponential backoff and jitter (Envoy's 500 ms .. 30 s),
// re-sending its last accepted versions and subscriptions (xds_protocol "Reconnect").

import { create } from '@bufbuild/protobuf';
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { ADS_SERVICE } from '../../xds/ads-service.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { DiscoveryRequestSchema, type DiscoveryRequest, type DiscoveryResponse } from '../../xds/gen/envoy/service/discovery/v3/discovery_pb.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, shortTypeName } from '../../xds/type-urls.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import { decodeResource, edsNamesOf, PROXY_TYPES, rdsNamesOf, type ProxyTypeUrl, type ResourceByType, type ResourceCompiler } from './validate.js';

/** gRPC status INVALID_ARGUMENT, what Envoy puts in error_detail.code for a rejected update. */
const INVALID_ARGUMENT = 3;
/** A whole SotW response may be large (every cluster of a mesh); grpc-js refuses > 4 MiB by default. */
export const MAX_RECEIVE_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface ResourceEntry<M> {
  readonly message: M;
  /** What the options' compile hook made of it (the runtime's immutable form), if any. */
  readonly compiled: unknown;
  /** version_info of the response that delivered it. */
  readonly version: string;
  /** When it was accepted (ISO time). */
  readonly lastUpdated: string;
}

export type ResourceTable<M> = ReadonlyMap<string, ResourceEntry<M>>;

export interface TypeState {
  /** Last accepted version_info ('' before any). */
  readonly version: string;
  /** Whether a response of this type has been received (accepted or rejected) since start. */
  readonly received: boolean;
  /** Resource names subscribed (empty with wildcard). */
  readonly names: readonly string[];
  /** The problems of the last rejected response, until one is accepted. */
  readonly lastError?: string;
}

export interface AdsClientOptions {
  readonly address: string;
  readonly node: Node;
  readonly logger?: Logger;
  /** Additional checks (for example features this build refuses); problems are `<field>: <reason>`. */
  readonly extraChecks?: (type: ProxyTypeUrl, message: ResourceByType[ProxyTypeUrl]) => string[];
  /** Compiles each valid resource; its problems reject the update like validation problems do. */
  readonly compile?: ResourceCompiler;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

interface MutableTypeState {
  version: string;
  nonce: string;
  received: boolean;
  names: string[];
  lastError: string | undefined;
  requested: boolean;
}

export class AdsClient {
  readonly #client: Client;
  readonly #logger: Logger;
  #call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> | undefined;
  #closed = false;
  #backoffMs: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #state = new Map<ProxyTypeUrl, MutableTypeState>();
  readonly #tables = new Map<ProxyTypeUrl, ResourceTable<ResourceByType[ProxyTypeUrl]>>();
  readonly #listeners = new Set<() => void>();
  #connected = false;

  constructor(private readonly options: AdsClientOptions) {
    this.#logger = options.logger ?? silentLogger;
    this.#backoffMs = options.initialBackoffMs ?? 500;
    this.#client = new Client(options.address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30_000,
    });
    for (const t of PROXY_TYPES) {
      this.#state.set(t, { version: '', nonce: '', received: false, names: [], lastError: undefined, requested: false });
      this.#tables.set(t, new Map());
    }
  }

  start(): void {
    this.#connect();
  }

  /** The current table of a type: replaced whole on each accepted update, never mutated. */
  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> {
    return this.#tables.get(type) as ResourceTable<ResourceByType[T]>;
  }

  typeState(type: ProxyTypeUrl): TypeState {
    const s = this.#state.get(type) as MutableTypeState;
    return { version: s.version, received: s.received, names: [...s.names], ...(s.lastError !== undefined ? { lastError: s.lastError } : {}) };
  }

  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Whether every initial type has arrived: CDS and LDS, and EDS/RDS when clusters or listeners need any
   * (Envoy's init manager: clusters, their endpoints, then listeners and their routes).
   */
  initialized(): boolean {
    const s = (t: ProxyTypeUrl): MutableTypeState => this.#state.get(t) as MutableTypeState;
    if (!s(CLUSTER_TYPE).received || !s(LISTENER_TYPE).received) return false;
    if (s(ENDPOINT_TYPE).names.length > 0 && !s(ENDPOINT_TYPE).received) return false;
    if (s(ROUTE_TYPE).names.length > 0 && !s(ROUTE_TYPE).received) return false;
    return true;
  }

  /** Called after each response is handled (accepted or rejected). */
  onUpdate(f: () => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#call?.cancel();
    this.#call = undefined;
    this.#client.close();
  }

  #connect(): void {
    if (this.#closed) return;
    const call = this.#client.makeBidiStreamRequest(
      ADS_SERVICE.StreamAggregatedResources.path,
      ADS_SERVICE.StreamAggregatedResources.requestSerialize,
      ADS_SERVICE.StreamAggregatedResources.responseDeserialize,
    );
    this.#call = call;
    let ended = false;
    const end = (why: string): void => {
      if (ended) return;
      ended = true;
      this.#connected = false;
      if (this.#call === call) this.#call = undefined;
      if (this.#closed) return;
      const delay = Math.round(this.#backoffMs * (0.5 + Math.random() / 2));
      this.#logger.warn('xDS stream ended; reconnecting', { reason: why, delayMs: delay });
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
    call.on('data', (r: DiscoveryResponse) => {
      this.#connected = true;
      this.#backoffMs = this.options.initialBackoffMs ?? 500;
      this.#handle(call, r);
    });
    call.on('error', (e: Error) => end(e.message));
    call.on('end', () => end('stream closed by the server'));
    // A new stream: nonces belong to the old one; versions and subscriptions are resent.
    for (const s of this.#state.values()) {
      s.nonce = '';
      s.requested = false;
    }
    this.#request(call, CLUSTER_TYPE);
    this.#request(call, LISTENER_TYPE);
    if (this.#stateOf(ENDPOINT_TYPE).names.length > 0) this.#request(call, ENDPOINT_TYPE);
    if (this.#stateOf(ROUTE_TYPE).names.length > 0) this.#request(call, ROUTE_TYPE);
  }

  #stateOf(t: ProxyTypeUrl): MutableTypeState {
    return this.#state.get(t) as MutableTypeState;
  }

  #request(call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>, type: ProxyTypeUrl, errorMessage?: string): void {
    const s = this.#stateOf(type);
    s.requested = true;
    call.write(
      create(DiscoveryRequestSchema, {
        node: this.options.node,
        typeUrl: type,
        versionInfo: s.version,
        responseNonce: s.nonce,
        resourceNames: s.names,
        ...(errorMessage !== undefined ? { errorDetail: { code: INVALID_ARGUMENT, message: errorMessage } } : {}),
      }),
    );
  }

  #handle(call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>, r: DiscoveryResponse): void {
    if (!PROXY_TYPES.includes(r.typeUrl as ProxyTypeUrl)) {
      this.#logger.warn('xDS response of a type not subscribed; ignored', { typeUrl: r.typeUrl });
      return;
    }
    const type = r.typeUrl as ProxyTypeUrl;
    const s = this.#stateOf(type);
    s.nonce = r.nonce;
    s.received = true;
    const problems: string[] = [];
    const accepted = new Map<string, { message: ResourceByType[ProxyTypeUrl]; compiled: unknown }>();
    r.resources.forEach((any, i) => {
      const d = decodeResource(type, any, i, this.options.extraChecks, this.options.compile);
      if (!d.ok) problems.push(...d.problems);
      else if (accepted.has(d.name)) problems.push(`${d.name}: duplicate resource name in one response`);
      else accepted.set(d.name, { message: d.message, compiled: d.compiled });
    });
    if (problems.length > 0) {
      const message = `${shortTypeName(type)} update rejected (version ${r.versionInfo}): ${problems.join('; ')}`;
      s.lastError = message;
      this.#logger.warn('xDS update rejected', { type: shortTypeName(type), version: r.versionInfo, problems });
      this.#request(call, type, message);
      this.#notify();
      return;
    }
    const now = new Date().toISOString();
    const old = this.#tables.get(type) as ResourceTable<ResourceByType[ProxyTypeUrl]>;
    const next = new Map<string, ResourceEntry<ResourceByType[ProxyTypeUrl]>>();
    // CDS and LDS are full state: a missing resource is deleted. EDS and RDS responses carry the
    // resources they carry; the table keeps the other subscribed names as they were.
    if (type === ENDPOINT_TYPE || type === ROUTE_TYPE) for (const [n, e] of old) if (s.names.includes(n) && !accepted.has(n)) next.set(n, e);
    for (const [n, m] of accepted) next.set(n, { message: m.message, compiled: m.compiled, version: r.versionInfo, lastUpdated: now });
    this.#tables.set(type, new Map([...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    s.version = r.versionInfo;
    s.lastError = undefined;
    this.#request(call, type); // ACK
    if (type === CLUSTER_TYPE) this.#resubscribe(call, ENDPOINT_TYPE, edsNamesOf([...next.values()].map((e) => e.message as Cluster)));
    if (type === LISTENER_TYPE) this.#resubscribe(call, ROUTE_TYPE, rdsNamesOf([...next.values()].map((e) => e.message as Listener)));
    this.#notify();
  }

  /** Changes the subscription of EDS or RDS when the names needed change; drops unsubscribed entries. */
  #resubscribe(call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>, type: ProxyTypeUrl, names: string[]): void {
    const s = this.#stateOf(type);
    if (s.requested && names.length === s.names.length && names.every((n, i) => n === s.names[i])) return;
    if (!s.requested && names.length === 0) return;
    s.names = names;
    const table = this.#tables.get(type) as ResourceTable<ResourceByType[ProxyTypeUrl]>;
    if ([...table.keys()].some((n) => !names.includes(n))) this.#tables.set(type, new Map([...table].filter(([n]) => names.includes(n))));
    this.#request(call, type);
  }

  #notify(): void {
    for (const f of this.#listeners) f();
  }
}

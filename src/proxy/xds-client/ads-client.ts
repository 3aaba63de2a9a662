// The proxy's ADS client, Envoy-like, over either protocol: state of the world (StreamAggregatedResources,
// sotw-session.ts) or incremental (DeltaAggregatedResources, delta-session.ts). Either way it subscribes
// to wildcard CDS and LDS, then EDS for the EDS clusters, RDS for the HTTP connection managers' route
// names and SDS for the secrets TLS contexts name over ADS; every resource is decoded, validated and
// compiled (validate.ts and the compile hook); a valid update replaces the type's immutable table and is
// ACKed, an invalid one is NACKed with every problem while the last good table stays (xds-state.ts).
// When the stream ends it reconnects with exponential backoff and jitter (Envoy's 500 ms .. 30 s),
// re-sending its subscriptions and what it holds: SotW the last accepted versions, delta
// initial_resource_versions (xds_protocol "Reconnect").

import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { ADS_SERVICE } from '../../xds/ads-service.js';
import type { Node } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import { ENDPOINT_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';

/** The types subscribed by name, whose subscription stats are per resource. */
const NAMED_TYPES: readonly ProxyTypeUrl[] = [ENDPOINT_TYPE, ROUTE_TYPE, SECRET_TYPE];
import { silentLogger, type Logger } from '../../lib/logger.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { mathRandom, type Random } from '../lib/random.js';
import type { ExtraChecks, ProxyTypeUrl, ResourceByType, ResourceCompiler } from './validate.js';
import { XdsState, type ResourceTable, type TypeState, type WarmingType } from './xds-state.js';
import type { AdsSession, SessionContext } from './session.js';
import { SotwSession } from './sotw-session.js';
import { DeltaSession } from './delta-session.js';
import { SubscriptionStats } from './subscription-stats.js';
import { XdsClusterStats } from './xds-cluster-stats.js';
import type { StatsScope } from '../stats/stats-store.js';

export type { ResourceEntry, ResourceTable, TypeState, WarmingType } from './xds-state.js';

/** A whole SotW response may be large (every cluster of a mesh); grpc-js refuses > 4 MiB by default. */
export const MAX_RECEIVE_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Envoy's default ConfigSource.initial_fetch_timeout. */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** State of the world (`GRPC`) or incremental (`DELTA_GRPC`), as a bootstrap's ads_config.api_type says. */
export type AdsProtocol = 'sotw' | 'delta';

/** The tables and update signal the data plane reads (an AdsClient's servingTables(), or a worker's copy). */
export interface ServingTables {
  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]>;
  onUpdate(f: () => void): () => void;
}

export interface AdsClientOptions {
  readonly address: string;
  readonly node: Node;
  /** 'sotw' by default. */
  readonly protocol?: AdsProtocol;
  readonly logger?: Logger;
  /** Additional checks (for example features this build refuses); problems are `<field>: <reason>`. */
  readonly extraChecks?: ExtraChecks;
  /** Compiles each valid resource; its problems reject the update like validation problems do. */
  readonly compile?: ResourceCompiler;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long a subscribed endpoint, route or secret name may hold initialization; 0 waits forever. */
  readonly initialFetchTimeoutMs?: number;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Where Envoy's subscription stats go (`cluster_manager.cds.*`, `listener_manager.lds.*`, `control_plane.connected_state`). */
  readonly stats?: StatsScope;
  /** The stat name of the bootstrap's ADS cluster, whose `cluster.<name>.*` connection stats `stats` also gets; default `xds-grpc`. */
  readonly clusterStatName?: string;
}

export class AdsClient {
  readonly protocol: AdsProtocol;
  readonly #client: Client;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #state: XdsState;
  readonly #context: SessionContext;
  #call: ClientDuplexStream<unknown, unknown> | undefined;
  #closed = false;
  #backoffMs: number;
  #timer: { cancel(): void } | undefined;
  readonly #listeners = new Set<() => void>();
  #connected = false;
  readonly #stats: SubscriptionStats | undefined;
  readonly #clusterStats: XdsClusterStats | undefined;

  constructor(private readonly options: AdsClientOptions) {
    this.protocol = options.protocol ?? 'sotw';
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? mathRandom;
    this.#backoffMs = options.initialBackoffMs ?? 500;
    this.#client = new Client(options.address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30_000,
      // The channel's own reconnect backoff (grpc-js: up to 120 s) must not outlast ours.
      'grpc.initial_reconnect_backoff_ms': options.initialBackoffMs ?? 500,
      'grpc.max_reconnect_backoff_ms': options.maxBackoffMs ?? 30_000,
    });
    this.#stats = options.stats !== undefined ? new SubscriptionStats(options.stats) : undefined;
    this.#stats?.connection(false);
    this.#clusterStats = options.stats !== undefined ? new XdsClusterStats(options.stats.scope(`cluster.${options.clusterStatName ?? 'xds-grpc'}`)) : undefined;
    this.#clusterStats?.watch(this.#client.getChannel());
    this.#state = new XdsState({
      clock: this.#clock,
      logger: this.#logger,
      initialFetchTimeoutMs: options.initialFetchTimeoutMs ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
      onChange: () => this.#notify(),
      ...(this.#stats !== undefined ? { stats: this.#stats } : {}),
    });
    this.#context = {
      state: this.#state,
      node: options.node,
      logger: this.#logger,
      clock: this.#clock,
      extraChecks: options.extraChecks,
      compile: options.compile,
      notify: () => this.#notify(),
    };
  }

  start(): void {
    this.#connect();
  }

  /** The current table of a type: replaced whole on each accepted update, never mutated. */
  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> {
    return this.#state.table(type);
  }

  typeState(type: ProxyTypeUrl): TypeState {
    return this.#state.typeState(type);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Whether the initial config has arrived: CDS and LDS, and every endpoint, route and secret name the
   * clusters and listeners subscribed (Envoy's init manager: clusters warm on their endpoints and
   * secrets, then listeners on their routes and secrets), each answered or past its initial fetch timeout.
   */
  initialized(): boolean {
    return this.#state.initialized();
  }

  /** Accepted listeners or clusters still warming: waiting for the routes, endpoints or secrets they name. */
  warming<T extends WarmingType>(type: T): ResourceTable<ResourceByType[T]> {
    return this.#state.warming(type);
  }

  /** A type's table as traffic is served from it: listeners and clusters are their active versions. */
  servingTable<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> {
    return this.#state.servingTable(type);
  }

  /**
   * What serves traffic reads (the data plane, the tables relayed to workers): every table as accepted,
   * except that listeners and clusters are their active versions (warming, xds-state.ts).
   */
  servingTables(): ServingTables {
    return {
      table: <T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]> => this.#state.servingTable(type),
      onUpdate: (f) => this.onUpdate(f),
    };
  }

  /** Called after each response is handled (accepted or rejected), and when an initial fetch times out. */
  onUpdate(f: () => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#state.close();
    this.#call?.cancel();
    this.#call = undefined;
    this.#client.close();
    this.#clusterStats?.stop();
  }

  #connect(): void {
    if (this.#closed) return;
    if (this.protocol === 'delta') {
      const m = ADS_SERVICE.DeltaAggregatedResources;
      const call = this.#client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
      this.#run(call, new DeltaSession(this.#context, (r) => call.write(r)));
    } else {
      const m = ADS_SERVICE.StreamAggregatedResources;
      const call = this.#client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
      this.#run(call, new SotwSession(this.#context, (r) => call.write(r)));
    }
  }

  /** Drives one stream: its responses go to the session; its end schedules the next attempt. */
  #run<Req, Res>(call: ClientDuplexStream<Req, Res>, session: AdsSession<Res>): void {
    this.#call = call as ClientDuplexStream<unknown, unknown>;
    this.#clusterStats?.streamStarted();
    let ended = false;
    const end = (why: string): void => {
      if (ended) return;
      ended = true;
      this.#connected = false;
      this.#stats?.connection(false);
      this.#clusterStats?.streamEnded();
      if (!this.#closed) this.#stats?.streamFailed(new Map(NAMED_TYPES.map((t) => [t, this.#state.names(t)])));
      if (this.#call === call) this.#call = undefined;
      if (this.#closed) return;
      const delay = Math.round(this.#backoffMs * (0.5 + this.#random.next() / 2));
      this.#logger.warn('xDS stream ended; reconnecting', { reason: why, delayMs: delay, protocol: this.protocol });
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
      this.#timer = this.#clock.setTimeout(() => this.#connect(), delay);
    };
    call.on('data', (r: Res) => {
      if (ended) return;
      if (!this.#connected) this.#stats?.connection(true);
      this.#connected = true;
      this.#backoffMs = this.options.initialBackoffMs ?? 500;
      session.handle(r);
    });
    call.on('error', (e: Error) => end(e.message));
    call.on('end', () => end('stream closed by the server'));
    // A new stream: nonces belong to the old one; subscriptions and what the client holds are resent.
    session.start();
  }

  #notify(): void {
    for (const f of this.#listeners) f();
  }
}

// What the router and tcp_proxy need from an upstream cluster, whatever its discovery type or balancer:
// pick a host, get a connection pool to it, hold circuit-breaker slots, and report each attempt's outcome
// to outlier detection. Implemented by UpstreamCluster; tests may implement it over fixed hosts.

import type { Dispatcher } from 'undici';
import type { CompiledCluster, TransportSettings } from '../runtime/compile-cluster.js';
import type { WireProtocol } from './connection-pools.js';
import type { SlotGrant } from './connection-slots.js';

export type { SlotGrant };

export interface PickedHost {
  readonly address: string;
  readonly port: number;
  /** `address:port`, as Envoy's %UPSTREAM_HOST%. */
  readonly key: string;
  readonly transport: TransportSettings;
}

export interface PickContext {
  /** Request hash for RING_HASH / MAGLEV. */
  readonly hash: bigint | undefined;
  /** Hosts to avoid (previous_hosts retry predicate). */
  readonly avoid: ReadonlySet<string> | undefined;
  /** ORIGINAL_DST clusters: the destination to connect to (host:port). */
  readonly originalDestination: string | undefined;
}

export type BreakerKind = 'requests' | 'pending' | 'retries' | 'connections';
export type ResultKind = '5xx' | 'gateway' | 'local-origin-failure' | 'success';

export interface ClusterHandle {
  readonly config: CompiledCluster;
  pick(ctx: PickContext): PickedHost | undefined;
  /** A pool to the host for the protocol, or the transport failure reason (for example a TLS secret not yet supplied). */
  pool(host: PickedHost, protocol: WireProtocol): { readonly ok: true; readonly dispatcher: Dispatcher } | { readonly ok: false; readonly transportFailure: string };
  tryAcquire(kind: BreakerKind): boolean;
  release(kind: BreakerKind): void;
  /**
   * HTTP/1.1: a connection for one request now ('ready'), once one frees up ('pending': `onReady` runs
   * then) or not at all ('overflow': the pending breaker is open). Pair each non-overflow grant with one
   * releaseConnection(onReady), which also cancels a wait that has not ended.
   */
  acquireConnection(onReady: () => void): SlotGrant;
  releaseConnection(onReady: () => void): void;
  report(host: PickedHost, kind: ResultKind): void;
  /** Per-host active requests, for LEAST_REQUEST. */
  requestStarted(host: PickedHost): void;
  requestEnded(host: PickedHost): void;
}

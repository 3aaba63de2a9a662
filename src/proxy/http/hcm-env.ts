// What a connection manager needs from the proxy at run time (route tables and clusters by name,
// randomness, end-of-stream hooks) and what it reports per stream. Kept apart so filters and the router
// can name these without importing the connection manager.

import type { SecretSource } from '../upstream/connection-pools.js';
import type { StatsScope } from '../stats/stats-store.js';
import type { Random } from '../lib/random.js';
import type { CompiledHcm } from '../runtime/compile-hcm.js';
import type { ClusterHandle } from '../upstream/cluster-handle.js';
import type { DownstreamRequest } from './http-stream.js';
import type { PeerCertificate } from './peer-certificate.js';

export type { PeerCertificate };
import type { StreamInfo } from './stream-info.js';
import type { HeaderMap } from './headers.js';
import type { CompiledRouteConfig } from './route/types.js';
import type { OwnWorkload } from '../telemetry/istio-metrics.js';
import type { WasmPluginRegistry } from '../filters/wasm/plugin-registry.js';

export interface ConnectionFacts {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly tls: boolean;
  readonly serverName: string;
  /** The verified client certificate (mTLS); undefined on plaintext or when the client sent none. */
  readonly peer?: PeerCertificate | undefined;
}

export interface CompletedStream {
  readonly hcm: CompiledHcm;
  readonly request: DownstreamRequest;
  readonly info: StreamInfo;
  readonly responseHeaders: HeaderMap | undefined;
}

export interface HcmEnv {
  routeTable(name: string): CompiledRouteConfig | undefined;
  cluster(name: string): ClusterHandle | undefined;
  readonly random: Random;
  /** Where filters count their stats (`http.<stat_prefix>.rbac.allowed`, ...); absent in some tests. */
  readonly stats?: StatsScope;
  /** The proxy's Wasm plugins (envoy.filters.http.wasm); absent: every plugin counts as unavailable. */
  readonly wasm?: WasmPluginRegistry;
  /** This proxy's workload for Istio's metadata exchange; absent: the exchange sends nothing. */
  readonly workload?: OwnWorkload;
  /** Certificates for upstream TLS of what the router dials itself (upgrade tunnels); absent: none arrived. */
  readonly secrets?: SecretSource;
  /** Called when a stream starts and when it ends (access logs, stats, drain accounting). */
  onStreamStart?(): void;
  onStreamComplete(s: CompletedStream): void;
}


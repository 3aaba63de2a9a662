// What happened to one request (Envoy's StreamInfo): timings, response flags and details, the upstream
// chosen, byte counts. Filled along the request path; read by the access log and stats at the end.

import type { WorkloadMetadata } from '../telemetry/workload-metadata.js';
import type { ActiveSpan } from '../tracing/active-span.js';

export interface StreamInfo {
  readonly startMs: number;
  /** process.hrtime.bigint() at start, for durations with sub-millisecond precision. */
  readonly startNs: bigint;
  /** Response flags as Envoy's bit set (see response-flags.ts). */
  flags: number;
  /** Envoy's %RESPONSE_CODE_DETAILS% (via_upstream, route_not_found, ...). */
  details: string;
  connectionTerminationDetails: string;
  upstreamTransportFailureReason: string;
  responseCode: number;
  routeName: string;
  /** The virtual host's virtual cluster the request counted in (Envoy's catch-all `other`); '' when it has none. */
  virtualClusterName: string;
  upstreamCluster: string;
  upstreamHost: string;
  upstreamLocalAddress: string;
  /** ms from sending upstream to the first response byte (x-envoy-upstream-service-time). */
  upstreamServiceTimeMs: number;
  bytesReceived: number;
  bytesSent: number;
  attempts: number;
  /** A `100 Continue` went downstream (counted in downstream_rq_1xx when the stream completes). */
  continueSent: boolean;
  endNs: bigint;
  /**
   * Envoy's dynamic metadata: what filters publish for later filters and the access log, by filter name
   * (a Struct as a plain object). jwt_authn writes the verified payload here, RBAC reads it.
   */
  readonly dynamicMetadata: Record<string, Record<string, unknown>>;
  /** The client's workload, from Istio's metadata exchange (istio.metadata_exchange downstream discovery). */
  downstreamPeer: WorkloadMetadata | undefined;
  /** The server's workload, from the metadata exchange's upstream discovery. */
  upstreamPeer: WorkloadMetadata | undefined;
  /** URI SANs of the upstream connection's certificates (mTLS), '' otherwise. */
  upstreamPeerPrincipal: string;
  upstreamLocalPrincipal: string;
  /** The response's grpc-status (from its head or trailers), '' when it has none. */
  grpcStatus: string;
  /** The stream's span when its HCM traces (started with the stream, finished by the data plane). */
  span: ActiveSpan | undefined;
}

export function newStreamInfo(nowMs: number): StreamInfo {
  return {
    startMs: nowMs,
    startNs: process.hrtime.bigint(),
    flags: 0,
    details: '',
    connectionTerminationDetails: '',
    upstreamTransportFailureReason: '',
    responseCode: 0,
    routeName: '',
    virtualClusterName: '',
    upstreamCluster: '',
    upstreamHost: '',
    upstreamLocalAddress: '',
    upstreamServiceTimeMs: -1,
    bytesReceived: 0,
    bytesSent: 0,
    attempts: 0,
    continueSent: false,
    endNs: 0n,
    dynamicMetadata: {},
    downstreamPeer: undefined,
    upstreamPeer: undefined,
    upstreamPeerPrincipal: '',
    upstreamLocalPrincipal: '',
    grpcStatus: '',
    span: undefined,
  };
}

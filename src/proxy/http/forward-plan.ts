// What the router works from: the plan the route made for a request (forward.ts), and the state of each
// attempt it makes (router.ts).

import type { ClusterHandle, DispatchController, HostRequestCounters, PickedHost } from '../upstream/cluster-handle.js';
import type { MirrorTarget } from './mirror.js';
import type { RequestControls } from './router-controls.js';

/** What the route decided for a request that goes upstream. */
export interface ForwardPlan {
  readonly cluster: ClusterHandle;
  /** Route and per-try timeouts, the timeout's status and the retry policy (router-controls.ts). */
  readonly controls: RequestControls;
  /** The router's suppress_envoy_headers. */
  readonly suppressEnvoyHeaders: boolean;
  readonly includeAttemptCount: boolean;
  readonly hash: bigint | undefined;
  /** ORIGINAL_DST: host:port to connect to. */
  readonly originalDestination: string | undefined;
  /** Shadow copies to send (request_mirror_policies already sampled for this request). */
  readonly mirrors: readonly MirrorTarget[];
  /** Set-Cookie values a cookie hash policy made for this request, added to the upstream's response head. */
  readonly setCookies?: readonly string[];
}

/** One attempt of the router's (the first, or a retry). */
export interface Attempt {
  readonly host: PickedHost;
  startNs: bigint;
  controller: DispatchController | undefined;
  perTryTimer: NodeJS.Timeout | undefined;
  /** The cluster's max_stream_duration (or x-envoy-upstream-stream-duration-ms) for this attempt. */
  durationTimer: NodeJS.Timeout | undefined;
  done: boolean;
  /** HTTP/1.1: the callback the cluster's connection slots know this attempt by (granted or pending). */
  slot: (() => void) | undefined;
  /** Waiting for an HTTP/1.1 connection (Envoy's pending request): nothing was sent to the host yet. */
  pending: boolean;
  /** Sent to the host and not ended: counted in upstream_rq_active. */
  active: boolean;
  /** The host's request counters, once the attempt was sent (ClusterHandle.requestSent). */
  counters: HostRequestCounters | undefined;
}

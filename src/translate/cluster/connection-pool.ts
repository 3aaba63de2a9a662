// DestinationRule connectionPool -> circuit breakers, connect timeout, TCP keepalive and upstream HTTP
// protocol options, as Istio's applyConnectionPool / applyRetryBudget / applyTCPKeepalive / applyH2Upgrade
// (pilot/pkg/networking/core/cluster_traffic_policy.go, cluster.go). Istio lifts every threshold to
// MaxUint32 by default (Envoy's 1024 would trip during pod churn) and only lowers the ones the rule sets to
// a positive value: zero cannot be told apart from unset.

import { create } from '@bufbuild/protobuf';
import type { ConnectionPoolSettings } from '../../api/networking/connection-pool.js';
import type { TrafficPolicy } from '../../api/networking/destination-rule.js';
import { isHttpProtocol, type Protocol } from '../../api/networking/protocol.js';
import type { MeshConfig } from '../../model/mesh-config.js';
import { CircuitBreakersSchema, CircuitBreakers_ThresholdsSchema, CircuitBreakers_Thresholds_RetryBudgetSchema, type CircuitBreakers_Thresholds } from '../../xds/gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { UpstreamConnectionOptionsSchema } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { TcpKeepaliveSchema } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import { HttpProtocolOptionsSchema as CoreHttpProtocolOptionsSchema, KeepaliveSettingsSchema } from '../../xds/gen/envoy/config/core/v3/protocol_pb.js';
import { PercentSchema } from '../../xds/gen/envoy/type/v3/percent_pb.js';
import { durationFromMs, durationFromString, MAX_UINT32, secondsFromString } from '../proto-values.js';
import { mutableHttpOptions, setH2Options, setUseDownstreamProtocol, type MutableCluster } from './cluster-wrapper.js';

/** getDefaultCircuitBreakerThresholds: everything unlimited, remaining capacity tracked. */
export function defaultThresholds(): CircuitBreakers_Thresholds {
  return create(CircuitBreakers_ThresholdsSchema, {
    maxConnections: MAX_UINT32,
    maxPendingRequests: MAX_UINT32,
    maxRequests: MAX_UINT32,
    maxRetries: MAX_UINT32,
    trackRemaining: true,
  });
}

function applyRetryBudget(t: CircuitBreakers_Thresholds, budget: TrafficPolicy['retryBudget']): void {
  if (budget === undefined) return;
  // budgetInterval (istio master) has no field in the Envoy API generated here; it is not sent.
  t.retryBudget = create(CircuitBreakers_Thresholds_RetryBudgetSchema, {
    budgetPercent: create(PercentSchema, { value: budget.percent ?? 20 }),
    minRetryConcurrency: (budget.minRetryConcurrency ?? 0) > 0 ? (budget.minRetryConcurrency ?? 0) : 3,
  });
}

/** shouldH2Upgrade (outbound only): the rule's h2UpgradePolicy, else the mesh's (DO_NOT_UPGRADE) for HTTP ports. */
function shouldH2Upgrade(protocol: Protocol | undefined, cp: ConnectionPoolSettings): boolean {
  const http = cp.http;
  if (http !== undefined) {
    if (http.useClientProtocol === true) return false;
    if (http.h2UpgradePolicy === 'UPGRADE') return true;
    if (http.h2UpgradePolicy === 'DO_NOT_UPGRADE') return false;
  }
  // Only HTTP ports follow the mesh-wide policy, which is not modelled: Istio's default DO_NOT_UPGRADE.
  const meshUpgrades = false;
  return meshUpgrades && isHttpProtocol(protocol);
}

/** applyH2Upgrade: upgrade the upstream to HTTP/2 when the policy asks for it. */
export function applyH2Upgrade(mc: MutableCluster, protocol: Protocol | undefined, cp: ConnectionPoolSettings): void {
  if (shouldH2Upgrade(protocol, cp)) setH2Options(mc);
}

/** applyConnectionPool. `settings` is `{}` when the rule has no connectionPool (defaults still apply). */
export function applyConnectionPool(mesh: MeshConfig, mc: MutableCluster, settings: ConnectionPoolSettings, retryBudget: TrafficPolicy['retryBudget']): void {
  const c = mc.cluster;
  const t = defaultThresholds();
  applyRetryBudget(t, retryBudget);
  const http = settings.http;
  const tcp = settings.tcp;
  if ((http?.http2MaxRequests ?? 0) > 0) t.maxRequests = http?.http2MaxRequests;
  if ((http?.http1MaxPendingRequests ?? 0) > 0) t.maxPendingRequests = http?.http1MaxPendingRequests;
  if ((http?.maxRetries ?? 0) > 0) t.maxRetries = http?.maxRetries;
  let idleTimeout = http?.idleTimeout;
  const maxRequestsPerConnection = http?.maxRequestsPerConnection ?? 0;
  const maxConcurrentStreams = http?.maxConcurrentStreams ?? 0;
  const keepalive = http?.http2KeepAlive;

  c.connectTimeout = durationFromMs(mesh.connectTimeoutMs);
  let maxConnectionDuration: string | undefined;
  if (tcp !== undefined) {
    if (tcp.connectTimeout !== undefined) c.connectTimeout = durationFromString(tcp.connectTimeout);
    if ((tcp.maxConnections ?? 0) > 0) t.maxConnections = tcp.maxConnections;
    maxConnectionDuration = tcp.maxConnectionDuration;
    idleTimeout ??= tcp.idleTimeout;
    // applyTCPKeepalive (MeshConfig.tcpKeepalive is not modelled): an empty message turns SO_KEEPALIVE on.
    const ka = tcp.tcpKeepalive;
    if (ka !== undefined) {
      c.upstreamConnectionOptions = create(UpstreamConnectionOptionsSchema, {
        tcpKeepalive: create(TcpKeepaliveSchema, {
          ...((ka.probes ?? 0) > 0 ? { keepaliveProbes: ka.probes } : {}),
          ...(ka.time !== undefined ? { keepaliveTime: secondsFromString(ka.time) } : {}),
          ...(ka.interval !== undefined ? { keepaliveInterval: secondsFromString(ka.interval) } : {}),
        }),
      });
    }
  }
  c.circuitBreakers = create(CircuitBreakersSchema, { thresholds: [t] });

  if (maxConnectionDuration !== undefined || idleTimeout !== undefined || maxRequestsPerConnection > 0 || maxConcurrentStreams > 0 || keepalive !== undefined) {
    const options = mutableHttpOptions(mc);
    const common = (options.commonHttpProtocolOptions ??= create(CoreHttpProtocolOptionsSchema, {}));
    if (idleTimeout !== undefined) common.idleTimeout = durationFromString(idleTimeout);
    if (maxRequestsPerConnection > 0) common.maxRequestsPerConnection = maxRequestsPerConnection;
    if (maxConnectionDuration !== undefined) common.maxConnectionDuration = durationFromString(maxConnectionDuration);
    const u = options.upstreamProtocolOptions;
    const h2 = u.case === 'explicitHttpConfig' && u.value.protocolConfig.case === 'http2ProtocolOptions' ? u.value.protocolConfig.value : undefined;
    if (h2 !== undefined && maxConcurrentStreams > 0) h2.maxConcurrentStreams = maxConcurrentStreams;
    if (h2 !== undefined && keepalive !== undefined) {
      h2.connectionKeepalive = create(KeepaliveSettingsSchema, {
        ...(keepalive.interval !== undefined ? { interval: durationFromString(keepalive.interval) } : {}),
        ...(keepalive.timeout !== undefined ? { timeout: durationFromString(keepalive.timeout) } : {}),
      });
    }
  }
  if (http?.useClientProtocol === true) setUseDownstreamProtocol(mc);
}

// istio.networking.v1alpha3.ConnectionPoolSettings (istio/api networking/v1alpha3/destination_rule.proto),
// used by DestinationRule traffic policies and by Sidecar's inboundConnectionPool and ingress listeners:
// its schema, Istio's validateConnectionPool (istio/istio pkg/config/validation/validation.go), and the
// values Istio uses when fields are unset.

import { at, error, type Issue } from '../../lib/issue.js';
import { durationString, enumOf, int32, obj, uint32, z } from '../schema.js';
import { durationIssues } from '../validation/common.js';
import { parseGoDuration } from '../validation/duration.js';

export const H2_UPGRADE_POLICIES = ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const;

export const ConnectionPoolSettingsSchema = obj({
  tcp: obj({
    maxConnections: int32.optional(),
    connectTimeout: durationString.optional(),
    tcpKeepalive: obj({ probes: uint32.optional(), time: durationString.optional(), interval: durationString.optional() }).optional(),
    maxConnectionDuration: durationString.optional(),
    /** `0s` disables the timeout. */
    idleTimeout: durationString.optional(),
  }).optional(),
  http: obj({
    http1MaxPendingRequests: int32.optional(),
    http2MaxRequests: int32.optional(),
    maxRequestsPerConnection: int32.optional(),
    maxRetries: int32.optional(),
    idleTimeout: durationString.optional(),
    h2UpgradePolicy: enumOf(H2_UPGRADE_POLICIES).optional(),
    useClientProtocol: z.boolean().optional(),
    maxConcurrentStreams: int32.optional(),
    /** istio/api master (1.31-dev). */
    http2KeepAlive: obj({ interval: durationString.optional(), timeout: durationString.optional() }).optional(),
  }).optional(),
});
export type ConnectionPoolSettings = z.infer<typeof ConnectionPoolSettingsSchema>;

/** Istio's validateConnectionPool. */
export function connectionPoolIssues(path: string, cp: ConnectionPoolSettings | undefined): Issue[] {
  if (cp === undefined) return [];
  if (cp.http === undefined && cp.tcp === undefined) return [error(path, 'connection pool must have at least one field')];
  const out: Issue[] = [];
  const h = cp.http;
  if (h !== undefined) {
    const hp = at(path, 'http');
    const nonNegative: [keyof typeof h, string][] = [
      ['http1MaxPendingRequests', 'http1 max pending requests must be non-negative'],
      ['http2MaxRequests', 'http2 max requests must be non-negative'],
      ['maxRequestsPerConnection', 'max requests per connection must be non-negative'],
      ['maxRetries', 'max retries must be non-negative'],
    ];
    for (const [f, msg] of nonNegative) if (((h[f] as number | undefined) ?? 0) < 0) out.push(error(at(hp, f), msg));
    out.push(...durationIssues(at(hp, 'idleTimeout'), h.idleTimeout));
    if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol === true)
      out.push(error(at(hp, 'useClientProtocol'), 'use client protocol must not be true when H2UpgradePolicy is UPGRADE'));
    if ((h.maxConcurrentStreams ?? 0) < 0) out.push(error(at(hp, 'maxConcurrentStreams'), 'max concurrent streams must be non-negative'));
    const ka = h.http2KeepAlive;
    if (ka !== undefined) {
      // A missing member is reported on http2KeepAlive itself.
      const kp = at(hp, 'http2KeepAlive');
      if (ka.interval === undefined) out.push(error(kp, 'http2 keepalive interval is required'));
      else out.push(...durationIssues(at(kp, 'interval'), ka.interval));
      if (ka.timeout === undefined) out.push(error(kp, 'http2 keepalive timeout is required'));
      else out.push(...durationIssues(at(kp, 'timeout'), ka.timeout));
    }
  }
  const t = cp.tcp;
  if (t !== undefined) {
    const tp = at(path, 'tcp');
    if ((t.maxConnections ?? 0) < 0) out.push(error(at(tp, 'maxConnections'), 'max connections must be non-negative'));
    out.push(...durationIssues(at(tp, 'connectTimeout'), t.connectTimeout));
    out.push(...durationIssues(at(tp, 'maxConnectionDuration'), t.maxConnectionDuration));
    if (t.idleTimeout !== undefined) {
      // `0s` disables the idle timeout, so only a non-zero value is range-checked.
      const p = parseGoDuration(t.idleTimeout);
      if (!p.ok || Math.trunc(p.ns / 1e6) !== 0) out.push(...durationIssues(at(tp, 'idleTimeout'), t.idleTimeout));
    }
    if (t.tcpKeepalive !== undefined) {
      out.push(...durationIssues(at(at(tp, 'tcpKeepalive'), 'time'), t.tcpKeepalive.time));
      out.push(...durationIssues(at(at(tp, 'tcpKeepalive'), 'interval'), t.tcpKeepalive.interval));
    }
  }
  return out;
}

const MAX_UINT32 = 4294967295;

/**
 * Connection pool values when unset: Istio's circuit-breaker thresholds (getDefaultCircuitBreakerThresholds:
 * all 2^32-1), mesh connectTimeout 10s, idle timeouts 1h, maxRequestsPerConnection 0 = unlimited,
 * maxConcurrentStreams 2^31-1 (destination_rule.proto comments). Values <= 0 in the resource mean "default".
 */
export const connectionPoolDefaults = Object.freeze({
  maxConnections: MAX_UINT32,
  connectTimeout: '10s',
  tcpIdleTimeout: '1h',
  http1MaxPendingRequests: MAX_UINT32,
  http2MaxRequests: MAX_UINT32,
  maxRequestsPerConnection: 0,
  maxRetries: MAX_UINT32,
  httpIdleTimeout: '1h',
  maxConcurrentStreams: 2147483647,
});

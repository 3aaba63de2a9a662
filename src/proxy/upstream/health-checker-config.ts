// A cluster's health_checks compiled once into the immutable settings the health checker runs on, with
// Envoy's defaults (source/extensions/health_checkers/common/health_checker_base_impl.cc): no_traffic_interval
// 60 s, no_traffic_healthy_interval = no_traffic_interval, unhealthy_interval = interval,
// unhealthy_edge_interval = unhealthy_interval, healthy_edge_interval = interval, reuse_connection true,
// HTTP expected statuses [200, 201). Everything this proxy cannot run is a problem, so the Cluster is NACKed:
// custom health checkers (redis, thrift, ...), HTTP/3 health checks, more than one health check (as Envoy
// builds of this API version: "Multiple health checks not supported"), and the protoc-gen-validate rules
// Envoy enforces (timeout/interval/thresholds required, intervals > 0, status ranges inside [100, 600)).
// Event logging (event_log_path, event_logger) is accepted and not written.

import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { RequestMethod } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { HealthCheck, HealthCheck_GrpcHealthCheck, HealthCheck_HttpHealthCheck, HealthCheck_TcpHealthCheck } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import type { Int64Range } from '../../xds/gen/envoy/type/v3/range_pb.js';
import { CodecClientType } from '../../xds/gen/envoy/type/v3/http_pb.js';
import type { Duration } from '@bufbuild/protobuf/wkt';
import { compileHeaderMutationLevel, type HeaderMutationLevel } from '../http/route/header-mutation.js';
import { compileStringMatcher, type StringPredicate } from '../http/route/string-matcher.js';
import { decodePayload, decodePayloads } from './health-checker-payload.js';

/** Half-open [start, end) status ranges. */
export type StatusRanges = readonly (readonly [number, number])[];

export interface HttpProbeConfig {
  readonly kind: 'http';
  readonly path: string;
  /** The Host header; '' means the endpoint's health-check hostname, else the cluster name. */
  readonly host: string;
  readonly method: string;
  readonly codec: 'http1' | 'http2';
  readonly headers: HeaderMutationLevel | undefined;
  readonly send: Buffer | undefined;
  readonly receive: readonly Buffer[];
  /** How much of the body is kept for `receive` matching; 0 means all of it. */
  readonly responseBufferSize: number;
  readonly expected: StatusRanges;
  readonly retriable: StatusRanges;
  /** Matched against x-envoy-upstream-healthchecked-cluster when set. */
  readonly serviceName: StringPredicate | undefined;
}

export interface TcpProbeConfig {
  readonly kind: 'tcp';
  readonly send: Buffer | undefined;
  /** Empty: a connect-only check. */
  readonly receive: readonly Buffer[];
  readonly proxyProtocol: 'v1' | 'v2' | undefined;
}

export interface GrpcProbeConfig {
  readonly kind: 'grpc';
  readonly serviceName: string;
  /** '' means the endpoint's health-check hostname, else the cluster name. */
  readonly authority: string;
  readonly metadata: HeaderMutationLevel | undefined;
}

export type ProbeConfig = HttpProbeConfig | TcpProbeConfig | GrpcProbeConfig;

export interface CompiledHealthCheck {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly noTrafficIntervalMs: number;
  readonly noTrafficHealthyIntervalMs: number;
  readonly unhealthyIntervalMs: number;
  readonly unhealthyEdgeIntervalMs: number;
  readonly healthyEdgeIntervalMs: number;
  readonly initialJitterMs: number;
  readonly intervalJitterMs: number;
  readonly intervalJitterPercent: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly reuseConnection: boolean;
  /** tls_options.alpn_protocols: replaces the cluster's ALPN on health-check connections when set. */
  readonly alpn: readonly string[] | undefined;
  /** transport_socket_match_criteria, used instead of the endpoint's metadata to pick a transport socket. */
  readonly transportMatch: Readonly<Record<string, string>> | undefined;
  readonly probe: ProbeConfig;
}

export type HealthCheckCompileResult = { readonly ok: true; readonly value: CompiledHealthCheck | undefined } | { readonly ok: false; readonly problems: readonly string[] };

const DEFAULT_RESPONSE_BUFFER = 1024;

function ms(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}

/** A Duration that must be > 0 when set (PGV `gt {}`); `required` adds the required rule. */
function positive(d: Duration | undefined, path: string, problems: string[], required = false): number | undefined {
  if (d === undefined) {
    if (required) problems.push(`${path}: value is required`);
    return undefined;
  }
  if (d.seconds < 0n || (d.seconds === 0n && d.nanos <= 0)) problems.push(`${path}: value must be greater than 0s`);
  return Math.max(1, ms(d) ?? 1);
}

function ranges(list: readonly Int64Range[], what: string, path: string, problems: string[]): [number, number][] {
  const out: [number, number][] = [];
  list.forEach((r, i) => {
    const start = Number(r.start);
    const end = Number(r.end);
    if (start >= end) problems.push(`${path}[${i}]: Invalid http ${what} status range: expecting start < end, but found start=${start} and end=${end}`);
    else if (start < 100) problems.push(`${path}[${i}]: Invalid http ${what} status range: expecting start >= 100, but found start=${start}`);
    else if (end > 600) problems.push(`${path}[${i}]: Invalid http ${what} status range: expecting end <= 600, but found end=${end}`);
    else out.push([start, end]);
  });
  return out;
}

function httpProbe(h: HealthCheck_HttpHealthCheck, path: string, problems: string[]): HttpProbeConfig {
  if (h.path === '') problems.push(`${path}.path: value length must be at least 1 characters`);
  if (h.codecClientType === CodecClientType.HTTP3) problems.push(`${path}.codec_client_type: HTTP3 health checks are not supported`);
  const method = h.method === RequestMethod.METHOD_UNSPECIFIED ? 'GET' : (RequestMethod[h.method] ?? 'GET');
  if (h.method === RequestMethod.CONNECT) problems.push(`${path}.method: CONNECT is not allowed`);
  let send: Buffer | undefined;
  if (h.send !== undefined) {
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'TRACE') {
      problems.push(`${path}.send: HTTP health check cannot specify a request payload with method '${method}'. Only methods that support a request body (POST, PUT, PATCH, OPTIONS) can be used with payload.`);
    }
    send = decodePayload(h.send, `${path}.send`, problems);
  }
  const receive = decodePayloads(h.receive, `${path}.receive`, problems);
  const responseBufferSize = h.responseBufferSize === undefined ? DEFAULT_RESPONSE_BUFFER : Number(h.responseBufferSize);
  const total = receive.reduce((n, b) => n + b.length, 0);
  if (responseBufferSize !== 0 && total > responseBufferSize) {
    problems.push(`${path}.receive: The expected response length '${total}' is over than http health response buffer size '${responseBufferSize}'`);
  }
  const expected = ranges(h.expectedStatuses, 'expected', `${path}.expected_statuses`, problems);
  return {
    kind: 'http',
    path: h.path,
    host: h.host,
    method,
    codec: h.codecClientType === CodecClientType.HTTP2 ? 'http2' : 'http1',
    headers: compileHeaderMutationLevel(h.requestHeadersToAdd, h.requestHeadersToRemove, `${path}.request_headers_to_add`, `${path}.request_headers_to_remove`, problems),
    send,
    receive,
    responseBufferSize,
    expected: expected.length > 0 ? expected : [[200, 201]],
    retriable: ranges(h.retriableStatuses, 'retriable', `${path}.retriable_statuses`, problems),
    serviceName: h.serviceNameMatcher !== undefined ? compileStringMatcher(h.serviceNameMatcher, `${path}.service_name_matcher`, problems) : undefined,
  };
}

function tcpProbe(t: HealthCheck_TcpHealthCheck, path: string, problems: string[]): TcpProbeConfig {
  const send = t.send !== undefined ? decodePayload(t.send, `${path}.send`, problems) : undefined;
  const v = t.proxyProtocolConfig?.version;
  return {
    kind: 'tcp',
    send: send !== undefined && send.length > 0 ? send : undefined,
    receive: decodePayloads(t.receive, `${path}.receive`, problems),
    // ProxyProtocolConfig.Version: V1 = 0, V2 = 1.
    proxyProtocol: t.proxyProtocolConfig === undefined ? undefined : v === 1 ? 'v2' : 'v1',
  };
}

function grpcProbe(g: HealthCheck_GrpcHealthCheck, path: string, problems: string[]): GrpcProbeConfig {
  return {
    kind: 'grpc',
    serviceName: g.serviceName,
    authority: g.authority,
    metadata: compileHeaderMutationLevel(g.initialMetadata, [], `${path}.initial_metadata`, `${path}.initial_metadata`, problems),
  };
}

/** Compiles one HealthCheck; problems are reported under `path` (e.g. `health_checks[0]`). */
export function compileHealthCheck(hc: HealthCheck, path: string, problems: string[]): CompiledHealthCheck | undefined {
  const before = problems.length;
  const timeoutMs = positive(hc.timeout, `${path}.timeout`, problems, true) ?? 1;
  const intervalMs = positive(hc.interval, `${path}.interval`, problems, true) ?? 1;
  if (hc.unhealthyThreshold === undefined) problems.push(`${path}.unhealthy_threshold: value is required`);
  if (hc.healthyThreshold === undefined) problems.push(`${path}.healthy_threshold: value is required`);
  const noTrafficIntervalMs = positive(hc.noTrafficInterval, `${path}.no_traffic_interval`, problems) ?? 60_000;
  const noTrafficHealthyIntervalMs = positive(hc.noTrafficHealthyInterval, `${path}.no_traffic_healthy_interval`, problems) ?? noTrafficIntervalMs;
  const unhealthyIntervalMs = positive(hc.unhealthyInterval, `${path}.unhealthy_interval`, problems) ?? intervalMs;
  const unhealthyEdgeIntervalMs = positive(hc.unhealthyEdgeInterval, `${path}.unhealthy_edge_interval`, problems) ?? unhealthyIntervalMs;
  const healthyEdgeIntervalMs = positive(hc.healthyEdgeInterval, `${path}.healthy_edge_interval`, problems) ?? intervalMs;
  let probe: ProbeConfig | undefined;
  const c = hc.healthChecker;
  switch (c.case) {
    case 'httpHealthCheck':
      probe = httpProbe(c.value, `${path}.http_health_check`, problems);
      break;
    case 'tcpHealthCheck':
      probe = tcpProbe(c.value, `${path}.tcp_health_check`, problems);
      break;
    case 'grpcHealthCheck':
      probe = grpcProbe(c.value, `${path}.grpc_health_check`, problems);
      break;
    case 'customHealthCheck':
      problems.push(`${path}.custom_health_check: custom health checker '${c.value.name}' is not supported`);
      break;
    default:
      problems.push(`${path}: one of http_health_check, tcp_health_check, grpc_health_check or custom_health_check must be set`);
  }
  const criteria = hc.transportSocketMatchCriteria;
  let transportMatch: Record<string, string> | undefined;
  if (criteria !== undefined) {
    transportMatch = {};
    for (const [k, v] of Object.entries(criteria)) transportMatch[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  if (problems.length > before || probe === undefined) return undefined;
  return Object.freeze({
    timeoutMs,
    intervalMs,
    noTrafficIntervalMs,
    noTrafficHealthyIntervalMs,
    unhealthyIntervalMs,
    unhealthyEdgeIntervalMs,
    healthyEdgeIntervalMs,
    initialJitterMs: ms(hc.initialJitter) ?? 0,
    intervalJitterMs: ms(hc.intervalJitter) ?? 0,
    intervalJitterPercent: hc.intervalJitterPercent,
    unhealthyThreshold: hc.unhealthyThreshold ?? 1,
    healthyThreshold: hc.healthyThreshold ?? 1,
    reuseConnection: hc.reuseConnection ?? true,
    alpn: hc.tlsOptions !== undefined ? Object.freeze([...hc.tlsOptions.alpnProtocols]) : undefined,
    transportMatch: transportMatch !== undefined ? Object.freeze(transportMatch) : undefined,
    probe,
  });
}

/** The cluster's health check (at most one), or every problem with its health_checks. */
export function compileClusterHealthCheck(c: Cluster): HealthCheckCompileResult {
  const problems: string[] = [];
  if (c.healthChecks.length > 1) problems.push('health_checks: Multiple health checks not supported');
  const first = c.healthChecks[0];
  let value: CompiledHealthCheck | undefined;
  c.healthChecks.forEach((hc, i) => {
    const compiled = compileHealthCheck(hc, `health_checks[${i}]`, problems);
    if (hc === first) value = compiled;
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

/** What in the cluster's health_checks this proxy cannot run or Envoy rejects (for the CDS NACK). */
export function healthCheckProblems(c: Cluster): readonly string[] {
  if (c.healthChecks.length === 0) return [];
  const r = compileClusterHealthCheck(c);
  return r.ok ? [] : r.problems;
}

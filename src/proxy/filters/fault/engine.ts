// The fault filter's request-path decision, pure: given the compiled settings (config.ts), the request
// headers, a Random and the current active-fault gauge, say whether to throttle the response, delay the
// request and/or abort it. No timers, no I/O: the filter schedules the delay, sends the local reply,
// paces the body with ResponseThrottle and keeps the gauge. Envoy's FaultFilter::decodeHeaders is the
// spec (source/extensions/filters/http/fault/fault_filter.cc; docs configuration/http/http_filters/
// fault_filter); the wire constants it shows users (body, flags, details, stats) are exported here.

import type { Random } from '../../lib/random.js';
import type { AbortSpec, CompiledHeaderMatcher, FaultConfig, Fraction } from './config.js';

/** Request headers as node's IncomingHttpHeaders: lower-case names. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** The local reply body of an injected abort. */
export const FAULT_ABORT_BODY = 'fault filter abort';
/** Response code details of an injected abort (%RESPONSE_CODE_DETAILS%). */
export const FAULT_ABORT_DETAILS = 'fault_filter_abort';
/** Response flags (%RESPONSE_FLAGS%): DI when a delay was injected, FI when an abort was. */
export const FAULT_FLAG_DELAY = 'DI';
export const FAULT_FLAG_ABORT = 'FI';
/** The HTTP status of a gRPC abort: the gRPC status travels in grpc-status (Envoy sends Http::Code::OK). */
export const GRPC_ABORT_HTTP_STATUS = 200;

/** The request headers the filter reads (the `x-envoy` prefix is not configurable here). */
export const FAULT_HEADERS = Object.freeze({
  delayRequest: 'x-envoy-fault-delay-request',
  delayRequestPercentage: 'x-envoy-fault-delay-request-percentage',
  abortRequest: 'x-envoy-fault-abort-request',
  abortRequestPercentage: 'x-envoy-fault-abort-request-percentage',
  abortGrpcRequest: 'x-envoy-fault-abort-grpc-request',
  throughputResponse: 'x-envoy-fault-throughput-response',
  throughputResponsePercentage: 'x-envoy-fault-throughput-response-percentage',
  downstreamServiceNode: 'x-envoy-downstream-service-node',
  downstreamServiceCluster: 'x-envoy-downstream-service-cluster',
});

/** Stats under `http.<stat_prefix>.fault.` (delays/aborts also per downstream cluster unless disabled). */
export const FAULT_STATS = Object.freeze({
  delaysInjected: 'delays_injected',
  abortsInjected: 'aborts_injected',
  responseRlInjected: 'response_rl_injected',
  faultsOverflow: 'faults_overflow',
  /** A gauge: requests with at least one fault in progress. */
  activeFaults: 'active_faults',
});

export type FaultStat = (typeof FAULT_STATS)[keyof typeof FAULT_STATS];

/** `http.<stat_prefix>.fault.[<downstream cluster>.]<stat>`, as Envoy names them. */
export function faultStatName(statPrefix: string, stat: FaultStat, downstreamCluster?: string): string {
  return downstreamCluster === undefined || downstreamCluster === ''
    ? `http.${statPrefix}.fault.${stat}`
    : `http.${statPrefix}.fault.${downstreamCluster}.${stat}`;
}

export type FaultAbortDecision = { readonly status: number } | { readonly grpcStatus: number };

/**
 * What to inject. The active_faults gauge: a request with any fault counts as one active fault from the
 * decision until the stream ends, except that a delay-only request (no abort, no rate limit) stops
 * counting when its delay ends (FaultFilter::postDelayInjection).
 */
export interface FaultDecision {
  /** Hold the request this long before continuing (or aborting). Response flag DI. */
  readonly delayMs?: number;
  /** Reply locally (after the delay, if any) with FAULT_ABORT_BODY. Response flag FI. */
  readonly abort?: FaultAbortDecision;
  /** Pace the response body at this many KiB/s (ResponseThrottle). */
  readonly responseRateLimitKbps?: number;
  /** A fault was due but max_active_faults was reached: count faults_overflow, inject nothing more. */
  readonly overflowed?: true;
}

export const NO_FAULT: FaultDecision = Object.freeze({});

function first(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  // Untrusted headers: only the first value counts (Envoy's API docs).
  return typeof v === 'string' ? v : v?.[0];
}

/** absl::SimpleAtoi into an unsigned integer: optional surrounding whitespace and '+', decimal digits. */
function parseUint(v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^\+?\d+$/.test(t)) return undefined;
  const n = Number(t.startsWith('+') ? t.slice(1) : t);
  return n <= max ? n : undefined;
}

const UINT32_MAX = 0xffff_ffff;

/** HeaderPercentageProvider: a header may lower the configured numerator, never raise it. */
function percentage(configured: Fraction, headers: HeaderMap, headerName: string | undefined): Fraction {
  if (headerName === undefined) return configured;
  const n = parseUint(first(headers, headerName), UINT32_MAX);
  if (n === undefined || n >= configured.numerator) return configured;
  return { numerator: n, denominator: configured.denominator };
}

/** Runtime featureEnabled with no runtime layer: `random % denominator < numerator`. */
function roll(f: Fraction, random: Random): boolean {
  if (f.numerator <= 0) return false;
  if (f.numerator >= f.denominator) return true;
  return random.next() * f.denominator < f.numerator;
}

function headerMatches(m: CompiledHeaderMatcher, headers: HeaderMap): boolean {
  const v = headers[m.name];
  if (v === undefined && !m.treatMissingAsEmpty) {
    // A missing header matches only present_match: false (or, inverted, present_match: true).
    return m.present !== undefined && m.present === m.invert;
  }
  if (m.present !== undefined) return m.present !== m.invert;
  const value = v === undefined ? '' : typeof v === 'string' ? v : v.join(',');
  return m.test(value) !== m.invert;
}

/**
 * Decides the faults for one request (FaultFilter::decodeHeaders). `activeFaults` is the current
 * active_faults gauge; `routeCluster` the routed cluster, needed only when upstream_cluster is set.
 * Order and draws follow Envoy: response rate limit, then delay, then abort, each percentage rolled
 * independently; max_active_faults is checked when the first fault of the request would start.
 */
export function decideFault(
  cfg: FaultConfig,
  headers: HeaderMap,
  random: Random,
  activeFaults: number,
  routeCluster?: string,
): FaultDecision {
  if (cfg.delay === undefined && cfg.abort === undefined && cfg.responseRateLimit === undefined) return NO_FAULT;
  if (cfg.upstreamCluster !== '' && routeCluster !== cfg.upstreamCluster) return NO_FAULT;
  if (cfg.downstreamNodes.size > 0) {
    const node = first(headers, FAULT_HEADERS.downstreamServiceNode);
    if (node === undefined || !cfg.downstreamNodes.has(node)) return NO_FAULT;
  }
  for (const m of cfg.headers) if (!headerMatches(m, headers)) return NO_FAULT;

  let charged = false;
  let overflowed = false;
  // tryIncActiveFaults: one active fault per request, checked against the limit only once it starts.
  const tryCharge = (): boolean => {
    if (charged) return true;
    if (activeFaults >= cfg.maxActiveFaults) {
      overflowed = true;
      return false;
    }
    charged = true;
    return true;
  };

  let rateKbps: number | undefined;
  const rl = cfg.responseRateLimit;
  if (rl !== undefined && roll(percentage(rl.percentage, headers, rl.kind === 'header' ? FAULT_HEADERS.throughputResponsePercentage : undefined), random)) {
    // A header rate of 0 or a missing/invalid header means no limit.
    const kbps = rl.kind === 'fixed' ? rl.kbps : parseUint(first(headers, FAULT_HEADERS.throughputResponse), Number.MAX_SAFE_INTEGER);
    if (kbps !== undefined && kbps > 0 && tryCharge()) rateKbps = kbps;
  }

  let delayMs: number | undefined;
  const d = cfg.delay;
  if (d !== undefined && roll(percentage(d.percentage, headers, d.kind === 'header' ? FAULT_HEADERS.delayRequestPercentage : undefined), random)) {
    const ms = d.kind === 'fixed' ? d.ms : parseUint(first(headers, FAULT_HEADERS.delayRequest), Number.MAX_SAFE_INTEGER);
    // Delay only if the duration is > 0ms.
    if (ms !== undefined && ms > 0 && tryCharge()) delayMs = ms;
  }

  let abort: FaultAbortDecision | undefined;
  const a = cfg.abort;
  if (a !== undefined && roll(percentage(a.percentage, headers, a.kind === 'header' ? FAULT_HEADERS.abortRequestPercentage : undefined), random)) {
    const status = abortStatus(a, headers);
    // After a delay the abort runs without another limit check (the request already counts).
    if (status !== undefined && (delayMs !== undefined || tryCharge())) abort = status;
  }

  if (rateKbps === undefined && delayMs === undefined && abort === undefined) return overflowed ? OVERFLOWED : NO_FAULT;
  const out: { -readonly [K in keyof FaultDecision]: FaultDecision[K] } = {};
  if (delayMs !== undefined) out.delayMs = delayMs;
  if (abort !== undefined) out.abort = abort;
  if (rateKbps !== undefined) out.responseRateLimitKbps = rateKbps;
  if (overflowed) out.overflowed = true;
  return out;
}

const OVERFLOWED: FaultDecision = Object.freeze({ overflowed: true });

/**
 * FaultAbortConfig: a fixed status, or from headers: x-envoy-fault-abort-request (HTTP, 200-599) wins
 * over x-envoy-fault-abort-grpc-request; neither valid means no abort.
 */
function abortStatus(a: AbortSpec, headers: HeaderMap): FaultAbortDecision | undefined {
  if (a.kind === 'http') return { status: a.status };
  if (a.kind === 'grpc') return { grpcStatus: a.grpcStatus };
  const http = parseUint(first(headers, FAULT_HEADERS.abortRequest), Number.MAX_SAFE_INTEGER);
  if (http !== undefined && http >= 200 && http < 600) return { status: http };
  const grpc = parseUint(first(headers, FAULT_HEADERS.abortGrpcRequest), Number.MAX_SAFE_INTEGER);
  return grpc === undefined ? undefined : { grpcStatus: grpc };
}

/** Envoy writes throttled data every fill interval (StreamRateLimiter default 50ms). */
export const THROTTLE_FILL_INTERVAL_MS = 50;

/**
 * A token bucket for one throttled response (Common::StreamRateLimiter): it holds at most one second of
 * bytes, refills at kbps KiB/s, and starts with one fill interval's worth. The filter buffers the body and,
 * every THROTTLE_FILL_INTERVAL_MS, writes `take(buffered, clock.now())` bytes.
 */
export interface ResponseThrottle {
  /** How many of `wanted` bytes may be written now (consumes them). */
  take(wanted: number, nowMs: number): number;
}

export function createResponseThrottle(kbps: number, startMs: number): ResponseThrottle {
  const perSecond = kbps * 1024;
  let tokens = Math.floor((perSecond * THROTTLE_FILL_INTERVAL_MS) / 1000);
  let last = startMs;
  return {
    take(wanted, nowMs) {
      if (nowMs > last) {
        tokens = Math.min(perSecond, tokens + ((nowMs - last) * perSecond) / 1000);
        last = nowMs;
      }
      const n = Math.min(Math.floor(tokens), Math.max(0, wanted));
      tokens -= n;
      return n;
    },
  };
}

// Fault-injection configuration: compiles Envoy's HTTPFault (the listener's envoy.filters.http.fault
// typed_config, usually empty as Istio emits it, and the per-route override Istio puts in
// typed_per_filter_config) into an immutable FaultConfig, once per update. It never throws: problems are
// `<field path>: <reason>` (the protoc-gen-validate rules Envoy enforces, plus what this proxy refuses)
// so the update is NACKed with all of them. The request path lives in engine.ts.
//
// Runtime keys (delay_percent_runtime, abort_http_status_runtime, ...) are accepted and ignored: with no
// runtime layer Envoy reads the configured values, which is what this proxy does.
// Envoy: docs configuration/http/http_filters/fault_filter, source/extensions/filters/http/fault and
// source/extensions/filters/common/fault.

import type { JsonObject } from '@bufbuild/protobuf';
import type { Duration } from '@bufbuild/protobuf/wkt';
import type { HTTPFault } from '../../../xds/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import type { HeaderMatcher } from '../../../xds/gen/envoy/config/route/v3/route_components_pb.js';
// The StringMatcher compiler is shared with the CORS filter (where origin matching lives).
import { compileFraction, compileRegex, compileStringMatcher, type CompileResult, type Fraction } from '../cors/config.js';

export type { CompileResult, Fraction };

export type DelaySpec =
  | { readonly kind: 'fixed'; readonly ms: number; readonly percentage: Fraction }
  /** Delay in ms from x-envoy-fault-delay-request; percentage capped by x-envoy-fault-delay-request-percentage. */
  | { readonly kind: 'header'; readonly percentage: Fraction };

export type AbortSpec =
  | { readonly kind: 'http'; readonly status: number; readonly percentage: Fraction }
  | { readonly kind: 'grpc'; readonly grpcStatus: number; readonly percentage: Fraction }
  /** Status from x-envoy-fault-abort-request or x-envoy-fault-abort-grpc-request. */
  | { readonly kind: 'header'; readonly percentage: Fraction };

export type RateLimitSpec =
  | { readonly kind: 'fixed'; readonly kbps: number; readonly percentage: Fraction }
  /** KiB/s from x-envoy-fault-throughput-response. */
  | { readonly kind: 'header'; readonly percentage: Fraction };

/** A compiled envoy.config.route.v3.HeaderMatcher (Http::HeaderUtility::HeaderData). */
export interface CompiledHeaderMatcher {
  /** Lower-case header name. */
  readonly name: string;
  readonly invert: boolean;
  readonly treatMissingAsEmpty: boolean;
  /** Set for present_match (and for a matcher with no specifier, which Envoy reads as present: true). */
  readonly present?: boolean;
  /** The value test for every other kind; multiple values are joined with ','. */
  readonly test: (value: string) => boolean;
}

export interface FaultConfig {
  readonly delay?: DelaySpec;
  readonly abort?: AbortSpec;
  readonly responseRateLimit?: RateLimitSpec;
  /** '' matches every route; otherwise only routes to this cluster get faults. */
  readonly upstreamCluster: string;
  /** All must match. */
  readonly headers: readonly CompiledHeaderMatcher[];
  /** Empty: any downstream; otherwise x-envoy-downstream-service-node must be one of these. */
  readonly downstreamNodes: ReadonlySet<string>;
  /** Infinity when unset. */
  readonly maxActiveFaults: number;
  readonly disableDownstreamClusterStats: boolean;
  /** Put in the request's dynamic metadata under the filter's name when a fault is injected. */
  readonly filterMetadata?: JsonObject;
}

const MAX_DURATION_SECONDS = 315_576_000_000n;

/** Duration in whole ms (DurationUtil::durationToMilliseconds); undefined (with a problem) when invalid. */
function durationMs(d: Duration, path: string, problems: string[]): number | undefined {
  if (d.seconds < 0n || d.nanos < 0 || d.seconds > MAX_DURATION_SECONDS || d.nanos > 999_999_999) {
    problems.push(`${path}: duration out of range`);
    return undefined;
  }
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1_000_000);
}

const ALWAYS = (): boolean => true;

/** Http::HeaderUtility::HeaderData for one matcher. */
export function compileHeaderMatcher(m: HeaderMatcher, path: string, problems: string[]): CompiledHeaderMatcher {
  if (m.name === '') problems.push(`${path}.name: value length must be at least 1 characters`);
  const base = { name: m.name.toLowerCase(), invert: m.invertMatch, treatMissingAsEmpty: m.treatMissingHeaderAsEmpty };
  const s = m.headerMatchSpecifier;
  switch (s.case) {
    case 'exactMatch': {
      const want = s.value;
      // An empty exact_match matches any value (HeaderMatchType::Value).
      return { ...base, test: want === '' ? ALWAYS : (v) => v === want };
    }
    case 'prefixMatch':
    case 'suffixMatch':
    case 'containsMatch': {
      const field = s.case === 'prefixMatch' ? 'prefix_match' : s.case === 'suffixMatch' ? 'suffix_match' : 'contains_match';
      if (s.value === '') problems.push(`${path}.${field}: value length must be at least 1 characters`);
      const want = s.value;
      const test =
        s.case === 'prefixMatch'
          ? (v: string) => v.startsWith(want)
          : s.case === 'suffixMatch'
            ? (v: string) => v.endsWith(want)
            : (v: string) => v.includes(want);
      return { ...base, test };
    }
    case 'safeRegexMatch': {
      const re = compileRegex(s.value.regex, `${path}.safe_regex_match.regex`, problems);
      return { ...base, test: (v) => re?.matches(v) ?? false };
    }
    case 'rangeMatch': {
      const { start, end } = s.value;
      // absl::SimpleAtoi into int64: optional surrounding whitespace and sign, decimal digits.
      return {
        ...base,
        test: (v) => {
          const t = v.trim();
          if (!/^[+-]?\d{1,19}$/.test(t)) return false;
          const n = BigInt(t);
          return n >= start && n < end;
        },
      };
    }
    case 'stringMatch': {
      const sm = compileStringMatcher(s.value, `${path}.string_match`, problems);
      return { ...base, test: sm.match };
    }
    case 'presentMatch':
      return { ...base, present: s.value, test: ALWAYS };
    case undefined:
      return { ...base, present: true, test: ALWAYS };
  }
}

/**
 * Compiles a listener-level or per-route HTTPFault. `path` prefixes problems (for example
 * `typed_per_filter_config["envoy.filters.http.fault"]`).
 */
export function compileFault(fault: HTTPFault, path = ''): CompileResult<FaultConfig> {
  const problems: string[] = [];
  const at = (field: string): string => (path === '' ? field : `${path}.${field}`);
  const out: { -readonly [K in keyof FaultConfig]: FaultConfig[K] } = {
    upstreamCluster: fault.upstreamCluster,
    headers: Object.freeze(fault.headers.map((h, i) => compileHeaderMatcher(h, at(`headers[${i}]`), problems))),
    downstreamNodes: new Set(fault.downstreamNodes),
    maxActiveFaults: fault.maxActiveFaults ?? Number.POSITIVE_INFINITY,
    disableDownstreamClusterStats: fault.disableDownstreamClusterStats,
  };
  if (fault.filterMetadata !== undefined) out.filterMetadata = fault.filterMetadata;

  if (fault.delay !== undefined) {
    const d = fault.delay;
    const percentage = compileFraction(d.percentage, at('delay.percentage'), problems);
    const spec = d.faultDelaySecifier;
    if (spec.case === 'fixedDelay') {
      const ms = durationMs(spec.value, at('delay.fixed_delay'), problems);
      if (ms !== undefined && spec.value.seconds === 0n && spec.value.nanos === 0) problems.push(`${at('delay.fixed_delay')}: value must be greater than 0s`);
      out.delay = Object.freeze({ kind: 'fixed', ms: ms ?? 0, percentage });
    } else if (spec.case === 'headerDelay') {
      out.delay = Object.freeze({ kind: 'header', percentage });
    } else {
      problems.push(`${at('delay')}: one of fixed_delay or header_delay is required`);
    }
  }

  if (fault.abort !== undefined) {
    const a = fault.abort;
    const percentage = compileFraction(a.percentage, at('abort.percentage'), problems);
    const e = a.errorType;
    if (e.case === 'httpStatus') {
      if (e.value < 200 || e.value >= 600) problems.push(`${at('abort.http_status')}: value must be inside range [200, 600) (got ${e.value})`);
      out.abort = Object.freeze({ kind: 'http', status: e.value, percentage });
    } else if (e.case === 'grpcStatus') {
      out.abort = Object.freeze({ kind: 'grpc', grpcStatus: e.value, percentage });
    } else if (e.case === 'headerAbort') {
      out.abort = Object.freeze({ kind: 'header', percentage });
    } else {
      problems.push(`${at('abort')}: one of http_status, grpc_status or header_abort is required`);
    }
  }

  if (fault.responseRateLimit !== undefined) {
    const r = fault.responseRateLimit;
    const percentage = compileFraction(r.percentage, at('response_rate_limit.percentage'), problems);
    const l = r.limitType;
    if (l.case === 'fixedLimit') {
      const kbps = l.value.limitKbps;
      if (kbps < 1n) problems.push(`${at('response_rate_limit.fixed_limit.limit_kbps')}: value must be greater than or equal to 1`);
      out.responseRateLimit = Object.freeze({ kind: 'fixed', kbps: Number(kbps), percentage });
    } else if (l.case === 'headerLimit') {
      out.responseRateLimit = Object.freeze({ kind: 'header', percentage });
    } else {
      problems.push(`${at('response_rate_limit')}: one of fixed_limit or header_limit is required`);
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: Object.freeze(out) };
}

/**
 * The settings that apply to a request: the most specific per-route HTTPFault (weighted cluster, route,
 * virtual host, route configuration), whole, or else the listener's. Envoy: "Route-level configuration
 * overrides filter-level configuration" (FaultFilter::decodeHeaders, resolveMostSpecificPerFilterConfig).
 */
export function resolveFaultConfig(listener: FaultConfig, mostSpecificPerRoute: FaultConfig | undefined): FaultConfig {
  return mostSpecificPerRoute ?? listener;
}

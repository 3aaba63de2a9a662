// Istio's stats filter config (`istio.stats`, stats.PluginConfig in istio/proxy
// source/extensions/filters/http/istio_stats/config.proto), as istiod sends it: an HTTP filter in the HCM
// and a network filter before tcp_proxy, its config wrapped in a TypedStruct. Compiled once per resource:
// which metrics are dropped, which tags each one loses (tags_to_remove) or gains or overrides
// (dimensions: tag -> CEL expression over Envoy's attributes and the peers, evaluated per request; a
// failed evaluation gives "unknown" as Istio's filter does). Unsupported fields (custom metric
// `definitions`, metric `match`) are refused, so a Telemetry the proxy cannot honour is NACKed.
// Defaults as the proto's: host header fallback on, reporter by listener direction, TCP reporting every 15 s.

import { celJs } from '../lib/on-demand-libraries.js';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

export const STATS_FILTER_TYPE = 'stats.PluginConfig';

/** A compiled CEL expression: the tag's value for one request's attributes. */
export type TagExpression = (attributes: Record<string, unknown>) => unknown;

export interface MetricOverride {
  readonly drop: boolean;
  readonly tagsToRemove: ReadonlySet<string>;
  /** Tag -> expression, in the config's order; an existing tag is overridden, a new one appended. */
  readonly dimensions: readonly (readonly [string, TagExpression])[];
}

export interface StatsFilterConfig {
  readonly disableHostHeaderFallback: boolean;
  /** SERVER_GATEWAY (waypoints) reports as the server; otherwise by listener direction. */
  readonly serverGateway: boolean;
  readonly tcpReportingMs: number;
  /** By Prometheus name without the `istio_` prefix (requests_total, request_duration_milliseconds, ...). */
  readonly overrides: ReadonlyMap<string, MetricOverride>;
}

/** The metrics Istio's filter defines (name without the istio_ prefix). */
export const ISTIO_METRIC_NAMES = [
  'requests_total', 'request_duration_milliseconds', 'request_bytes', 'response_bytes',
  'tcp_sent_bytes_total', 'tcp_received_bytes_total', 'tcp_connections_opened_total', 'tcp_connections_closed_total',
  'request_messages_total', 'response_messages_total',
] as const;

function field(o: JsonObject, snake: string): JsonValue | undefined {
  const camel = snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  return o[snake] ?? o[camel];
}

function durationMsOf(v: JsonValue | undefined, path: string, problems: string[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(v) : null;
  if (m === null) {
    problems.push(`${path}: must be a duration such as "15s"`);
    return undefined;
  }
  return Math.round(Number(m[1]) * 1000);
}

function compileExpression(expr: string, path: string, problems: string[]): TagExpression | undefined {
  try {
    const f = celJs().parse(expr);
    return (attrs) => f(attrs);
  } catch (e) {
    if (!(e instanceof celJs().ParseError)) throw e;
    problems.push(`${path}: cannot parse CEL expression ${JSON.stringify(expr)}: ${e.message.split('\n')[0] ?? ''}`);
    return undefined;
  }
}

/** Compiles the TypedStruct value of an `istio.stats` filter; problems are `<path>: <reason>`. */
export function compileStatsConfig(value: JsonObject, path: string, problems: string[]): StatsFilterConfig {
  const overrides = new Map<string, MetricOverride>();
  if (field(value, 'definitions') !== undefined && (field(value, 'definitions') as JsonValue[]).length > 0) {
    problems.push(`${path}.definitions: custom metric definitions are not supported`);
  }
  const metrics = field(value, 'metrics');
  if (metrics !== undefined && !Array.isArray(metrics)) problems.push(`${path}.metrics: must be a list`);
  (Array.isArray(metrics) ? metrics : []).forEach((m, i) => {
    const mp = `${path}.metrics[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return void problems.push(`${mp}: must be an object`);
    const name = typeof m['name'] === 'string' ? m['name'] : '';
    if (field(m, 'match') !== undefined) problems.push(`${mp}.match: metric matches are not supported`);
    const remove = field(m, 'tags_to_remove');
    const dims = m['dimensions'];
    const dimensions: [string, TagExpression][] = [];
    if (dims !== undefined && dims !== null) {
      if (typeof dims !== 'object' || Array.isArray(dims)) problems.push(`${mp}.dimensions: must be a map of tag to CEL expression`);
      else
        for (const [tag, expr] of Object.entries(dims)) {
          if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(tag)) {
            problems.push(`${mp}.dimensions: invalid tag name ${JSON.stringify(tag)}`);
            continue;
          }
          if (typeof expr !== 'string') {
            problems.push(`${mp}.dimensions[${tag}]: must be a string`);
            continue;
          }
          const f = compileExpression(expr, `${mp}.dimensions[${tag}]`, problems);
          if (f !== undefined) dimensions.push([tag, f]);
        }
    }
    const o: MetricOverride = {
      drop: field(m, 'drop') === true,
      tagsToRemove: new Set(Array.isArray(remove) ? remove.filter((t): t is string => typeof t === 'string') : []),
      dimensions,
    };
    // An empty name applies to every metric (Istio's ALL_METRICS override is sent that way).
    const names = name === '' ? ISTIO_METRIC_NAMES : [name];
    for (const n of names) {
      const prev = overrides.get(n);
      overrides.set(
        n,
        prev === undefined
          ? o
          : { drop: prev.drop || o.drop, tagsToRemove: new Set([...prev.tagsToRemove, ...o.tagsToRemove]), dimensions: [...prev.dimensions.filter(([t]) => !o.dimensions.some(([u]) => u === t)), ...o.dimensions] },
      );
    }
  });
  const reporter = field(value, 'reporter');
  return {
    disableHostHeaderFallback: field(value, 'disable_host_header_fallback') === true,
    serverGateway: reporter === 'SERVER_GATEWAY' || reporter === 1,
    tcpReportingMs: durationMsOf(field(value, 'tcp_reporting_duration'), `${path}.tcp_reporting_duration`, problems) ?? 15_000,
    overrides,
  };
}

// An access logger's `filter` (envoy.config.accesslog.v3.AccessLogFilter), compiled once into a predicate over
// the finished stream's CEL attributes. Supported: the extension filter `envoy.access_loggers.extension_filters.cel`
// (envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter, what Istio sends for a Telemetry's
// `filter.expression`). Semantics as cel.proto documents them: "The provided expression must evaluate to true for
// logging (expression errors are considered false)" (api/envoy/extensions/access_loggers/filters/cel/v3/cel.proto),
// so a missing attribute or a non-boolean result does not log. An expression that does not parse is a config
// error (Envoy throws "Not able to parse filter expression"), reported with the field's path so the resource is
// NACKed. Other filter kinds are refused.

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { parse } from '@marcbachmann/cel-js';
import { celJs } from '../../lib/on-demand-libraries.js';
import type { AccessLogFilter } from '../../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { ExpressionFilterSchema } from '../../../xds/gen/envoy/extensions/access_loggers/filters/cel/v3/cel_pb.js';

/** True when the stream is to be logged; `attributes` are Envoy's (request.*, response.*, connection.*, ...). */
export type AccessLogPredicate = (attributes: Record<string, unknown>) => boolean;

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A CEL expression as a predicate: only a boolean `true` logs; evaluation errors do not. */
export function compileCelPredicate(expression: string, path: string, problems: string[]): AccessLogPredicate | undefined {
  let f: ReturnType<typeof parse>;
  try {
    f = celJs().parse(expression);
  } catch (e) {
    if (!(e instanceof celJs().ParseError)) throw e;
    problems.push(`${path}: cannot parse CEL expression ${JSON.stringify(expression)}: ${e.message.split('\n')[0] ?? ''}`);
    return undefined;
  }
  return (attributes) => {
    try {
      return f(attributes) === true;
    } catch {
      return false;
    }
  };
}

/** The filter's predicate; problems are `<path>: <reason>` (`<path>` names the logger's `filter`). */
export function compileAccessLogFilter(filter: AccessLogFilter, path: string, problems: string[]): AccessLogPredicate | undefined {
  const s = filter.filterSpecifier;
  if (s.case !== 'extensionFilter') {
    problems.push(`${path}: access log filter ${s.case === undefined ? '(none set)' : snake(s.case)} is not supported (only the CEL extension filter)`);
    return undefined;
  }
  const ep = `${path}.extension_filter`;
  const ct = s.value.configType;
  if (ct.case !== 'typedConfig') {
    problems.push(`${ep}.typed_config: must be set`);
    return undefined;
  }
  const typeName = ct.value.typeUrl.slice(ct.value.typeUrl.lastIndexOf('/') + 1);
  if (typeName !== ExpressionFilterSchema.typeName) {
    problems.push(`${ep}.typed_config: unsupported access log extension filter ${typeName || '(no type)'}`);
    return undefined;
  }
  const cel = anyUnpack(ct.value, ExpressionFilterSchema);
  if (cel === undefined) {
    problems.push(`${ep}.typed_config: cannot decode ${ExpressionFilterSchema.typeName}`);
    return undefined;
  }
  return compileCelPredicate(cel.expression, `${ep}.typed_config.expression`, problems);
}

/**
 * The loggers that take this stream: those without a filter, and those whose filter passes on the stream's
 * attributes, built at most once and only when some logger has a filter. Without filters this returns `logs`
 * itself (no allocation, no attributes).
 */
export function passingLogs<L extends { readonly filter?: AccessLogPredicate | undefined }, S>(logs: readonly L[], stream: S, attributes: (stream: S) => Record<string, unknown>): readonly L[] {
  let attrs: Record<string, unknown> | undefined;
  let out: L[] | undefined;
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i] as L;
    if (l.filter === undefined || l.filter((attrs ??= attributes(stream)))) out?.push(l);
    else out ??= logs.slice(0, i);
  }
  return out ?? logs;
}

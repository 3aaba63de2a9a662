// Envoy access loggers as the proxy runs them: `envoy.access_loggers.file` (FileAccessLog: path and a text,
// JSON or SubstitutionFormatString format) and the stdout/stderr stream loggers, each compiled once into a
// formatter. Used by the HTTP connection manager and tcp_proxy. A logger's `filter` may be the CEL extension
// filter (access-log-filter.ts), compiled once; other filter kinds, and expressions that do not parse, are refused
// (NACK).

import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type { JsonObject } from '@bufbuild/protobuf';
import { FileAccessLogSchema } from '../../xds/gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { StdoutAccessLogSchema, StderrAccessLogSchema } from '../../xds/gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import type { AccessLog } from '../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import type { SubstitutionFormatString } from '../../xds/gen/envoy/config/core/v3/substitution_format_string_pb.js';
import type { Result } from '../../lib/issue.js';
import { compileTextFormat, type AccessLogFormatter } from '../http/access-log/text-formatter.js';
import { compileJsonFormat, type JsonFormatSpec } from '../http/access-log/json-formatter.js';
import { ENVOY_DEFAULT_FORMAT } from '../http/access-log/istio-formats.js';
import { compileAccessLogFilter, type AccessLogPredicate } from '../http/access-log/access-log-filter.js';

export interface CompiledAccessLog {
  /** '/dev/stdout', '/dev/stderr' or a file path. */
  readonly path: string;
  readonly format: AccessLogFormatter;
  /** Absent = log every stream; else log only when it returns true for the stream's CEL attributes. */
  readonly filter?: AccessLogPredicate;
}

function typeName(a: { typeUrl: string }): string {
  return a.typeUrl.slice(a.typeUrl.lastIndexOf('/') + 1);
}

function issuesText(r: Result<AccessLogFormatter>, path: string, problems: string[]): AccessLogFormatter | undefined {
  if (r.ok) return r.value;
  for (const i of r.issues) problems.push(`${path}${i.path !== '' ? `.${i.path}` : ''}: ${i.message}`);
  return undefined;
}

function formatOf(f: SubstitutionFormatString | undefined, path: string, problems: string[]): AccessLogFormatter | undefined {
  const fmt = f?.format;
  // omit_empty_values (Istio: the Telemetry file provider's omitEmptyValues): '' instead of '-', null JSON keys left out.
  const options = f?.omitEmptyValues === true ? { omitEmptyValues: true } : {};
  let r: Result<AccessLogFormatter> | undefined;
  if (fmt === undefined || fmt.case === undefined) r = compileTextFormat(ENVOY_DEFAULT_FORMAT, options);
  else if (fmt.case === 'textFormat') r = compileTextFormat(fmt.value, options);
  else if (fmt.case === 'textFormatSource') {
    const s = fmt.value.specifier;
    if (s.case === 'inlineString') r = compileTextFormat(s.value, options);
    else if (s.case === 'inlineBytes') r = compileTextFormat(Buffer.from(s.value).toString('utf8'), options);
    else problems.push(`${path}.text_format_source: only inline formats are supported`);
  } else if (fmt.case === 'jsonFormat') r = compileJsonFormat(fmt.value as unknown as JsonFormatSpec, options);
  return r === undefined ? undefined : issuesText(r, path, problems);
}

export function compileAccessLog(l: AccessLog, path: string, problems: string[]): CompiledAccessLog | undefined {
  const filter = l.filter === undefined ? undefined : compileAccessLogFilter(l.filter, `${path}.filter`, problems);
  const logger = compileLogger(l, path, problems);
  if (l.filter !== undefined && filter === undefined) return undefined;
  return logger === undefined || filter === undefined ? logger : { ...logger, filter };
}

function compileLogger(l: AccessLog, path: string, problems: string[]): CompiledAccessLog | undefined {
  if (l.configType.case !== 'typedConfig') {
    problems.push(`${path}.typed_config: must be set`);
    return undefined;
  }
  const a = l.configType.value;
  const t = typeName(a);
  if (t === FileAccessLogSchema.typeName) {
    const f = anyUnpack(a, FileAccessLogSchema);
    if (f === undefined) return void problems.push(`${path}.typed_config: cannot decode`);
    const fmt = f.accessLogFormat;
    let format: AccessLogFormatter | undefined;
    if (fmt.case === 'format') format = issuesText(compileTextFormat(fmt.value), `${path}.typed_config.format`, problems);
    else if (fmt.case === 'jsonFormat') format = issuesText(compileJsonFormat(fmt.value as JsonObject as unknown as JsonFormatSpec), `${path}.typed_config.json_format`, problems); else if (fmt.case === 'logFormat') format = formatOf(fmt.value, `${path}.typed_config.log_format`, problems);
    else format = formatOf(undefined, path, problems);
    if (format === undefined) return undefined;
    if (f.path === '') return void problems.push(`${path}.typed_config.path: must not be empty`);
    return { path: f.path, format };
  }
  if (t === StdoutAccessLogSchema.typeName || t === StderrAccessLogSchema.typeName) {
    const s = t === StdoutAccessLogSchema.typeName ? anyUnpack(a, StdoutAccessLogSchema) : anyUnpack(a, StderrAccessLogSchema);
    const lf = s?.accessLogFormat;
    const format = formatOf(lf?.case === 'logFormat' ? lf.value : undefined, `${path}.typed_config.log_format`, problems);
    return format === undefined ? undefined : { path: t === StdoutAccessLogSchema.typeName ? '/dev/stdout' : '/dev/stderr', format };
  }
  problems.push(`${path}.typed_config: unsupported access logger ${t}`);
  return undefined;
}


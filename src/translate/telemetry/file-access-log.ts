// The `envoy.access_loggers.file` loggers Istio builds (pilot/pkg/model/telemetry_logging.go): from the mesh-wide
// settings (FileAccessLogFromMeshConfig: accessLogEncoding/accessLogFormat, Istio's default text or JSON format),
// from an `envoyFileAccessLog` extension provider (fileAccessLogFromTelemetry: path, default /dev/stdout; text or
// JSON labels; the built-in `envoy` provider without a logFormat falls back to the mesh settings), and the CEL
// access log filter a Telemetry's `filter.expression` becomes (core/accesslog.go buildAccessLogFilterFromTelemetry).
// Istio's `formatters` (envoy.formatter.req_without_query) and json_format_options are not emitted. Pure.

import { create, type JsonObject } from '@bufbuild/protobuf';
import { AccessLogFilterSchema, AccessLogSchema, type AccessLog, type AccessLogFilter } from '../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { SubstitutionFormatStringSchema, type SubstitutionFormatString } from '../../xds/gen/envoy/config/core/v3/substitution_format_string_pb.js';
import { FileAccessLogSchema } from '../../xds/gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { ExpressionFilterSchema } from '../../xds/gen/envoy/extensions/access_loggers/filters/cel/v3/cel_pb.js';
import { pack } from '../../xds/codec.js';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from '../../xds/istio-access-log-formats.js';
import type { FileAccessLogProvider, MeshConfig } from '../../model/mesh-config.js';

export const FILE_ACCESS_LOGGER = 'envoy.access_loggers.file';
/** core/accesslog.go celFilter. */
export const CEL_ACCESS_LOG_FILTER = 'envoy.access_loggers.extension_filters.cel';
const DEV_STDOUT = '/dev/stdout';

/** fileAccessLogFormat: Istio appends the newline a custom text format lacks; '' is Istio's default format. */
function textFormat(text: string): string {
  if (text === '') return ISTIO_TEXT_FORMAT;
  return text.endsWith('\n') ? text : `${text}\n`;
}

function textLogFormat(text: string, omitEmptyValues: boolean): SubstitutionFormatString {
  return create(SubstitutionFormatStringSchema, {
    format: { case: 'textFormatSource', value: { specifier: { case: 'inlineString', value: textFormat(text) } } },
    omitEmptyValues,
  });
}

function jsonLogFormat(json: JsonObject, omitEmptyValues: boolean): SubstitutionFormatString {
  return create(SubstitutionFormatStringSchema, { format: { case: 'jsonFormat', value: json }, omitEmptyValues });
}

function fileLogger(path: string, format: SubstitutionFormatString): AccessLog {
  const file = create(FileAccessLogSchema, { path, accessLogFormat: { case: 'logFormat', value: format } });
  return create(AccessLogSchema, { name: FILE_ACCESS_LOGGER, configType: { case: 'typedConfig', value: pack(FileAccessLogSchema, file) } });
}

/** FileAccessLogFromMeshConfig: a file logger at `path` formatted as the mesh's accessLogEncoding/accessLogFormat say. */
export function fileAccessLogFromMesh(path: string, mesh: MeshConfig): AccessLog {
  if (mesh.accessLogEncoding === 'JSON') {
    let json: JsonObject = { ...ISTIO_JSON_FORMAT };
    if (mesh.accessLogFormat !== '') {
      try {
        json = JSON.parse(mesh.accessLogFormat) as JsonObject;
      } catch {
        // Istio falls back to its default JSON format when the custom one does not parse.
      }
    }
    return fileLogger(path, jsonLogFormat(json, false));
  }
  return fileLogger(path, textLogFormat(mesh.accessLogFormat, false));
}

/**
 * telemetryAccessLog for an envoyFileAccessLog provider. The built-in `envoy` provider with neither a logFormat nor
 * omitEmptyValues follows the mesh's encoding and format; JSON labels that are empty mean Istio's default labels.
 */
export function fileAccessLogFromProvider(name: string, p: FileAccessLogProvider, mesh: MeshConfig): AccessLog {
  const path = p.path === '' ? DEV_STDOUT : p.path;
  // Istio passes the path through here even when empty; an empty path would be NACKed, so it is /dev/stdout too.
  if (name === 'envoy' && p.logFormat === undefined && !p.omitEmptyValues) return fileAccessLogFromMesh(path, mesh);
  const f = p.logFormat;
  if (f?.kind === 'labels') {
    const labels = Object.keys(f.labels).length === 0 ? { ...ISTIO_JSON_FORMAT } : f.labels;
    return fileLogger(path, jsonLogFormat(labels, p.omitEmptyValues));
  }
  return fileLogger(path, textLogFormat(f?.kind === 'text' ? f.text : '', p.omitEmptyValues));
}

/** buildAccessLogFilterFromTelemetry: `filter.expression` as Envoy's CEL ExpressionFilter. */
export function celAccessLogFilter(expression: string): AccessLogFilter {
  const cel = create(ExpressionFilterSchema, { expression });
  return create(AccessLogFilterSchema, {
    filterSpecifier: { case: 'extensionFilter', value: { name: CEL_ACCESS_LOG_FILTER, configType: { case: 'typedConfig', value: pack(ExpressionFilterSchema, cel) } } },
  });
}

/** The logger with the filter set (a copy; loggers are shared between listeners). */
export function withFilter(log: AccessLog, filter: AccessLogFilter | undefined): AccessLog {
  return filter === undefined ? log : create(AccessLogSchema, { name: log.name, configType: log.configType, filter });
}

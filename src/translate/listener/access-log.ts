// Istio's access logging from MeshConfig (accessLogFile, accessLogEncoding, accessLogFormat): every HTTP
// connection manager and tcp_proxy of a proxy's listeners gets an `envoy.access_loggers.file` logger with
// Istio's default format for the encoding, or the mesh's own format (pilot/pkg/networking/core
// accesslog.go, model/telemetry_logging.go). Applied as a last pass over the built listeners, as Istio's
// accessLogBuilder does, so the listener builders stay unaware of it. Pure; returns new listeners.

import { clone, create, type JsonObject } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import type { Filter, FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { AccessLogSchema, type AccessLog } from '../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { SubstitutionFormatStringSchema } from '../../xds/gen/envoy/config/core/v3/substitution_format_string_pb.js';
import { FileAccessLogSchema } from '../../xds/gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { pack } from '../../xds/codec.js';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from '../../xds/istio-access-log-formats.js';
import type { MeshConfig } from '../../model/mesh-config.js';

const FILE_LOGGER = 'envoy.access_loggers.file';

/** The file access logger the mesh config asks for, or undefined when access logging is off. */
export function meshAccessLog(mesh: MeshConfig): AccessLog | undefined {
  if (mesh.accessLogFile === '') return undefined;
  const file = create(FileAccessLogSchema, { path: mesh.accessLogFile });
  if (mesh.accessLogEncoding === 'JSON') {
    let json: JsonObject = { ...ISTIO_JSON_FORMAT };
    if (mesh.accessLogFormat !== '') {
      try {
        json = JSON.parse(mesh.accessLogFormat) as JsonObject;
      } catch {
        // Istio falls back to its default JSON format when the custom one does not parse.
      }
    }
    file.accessLogFormat = { case: 'logFormat', value: create(SubstitutionFormatStringSchema, { format: { case: 'jsonFormat', value: json } }) };
  } else {
    const text = mesh.accessLogFormat !== '' ? (mesh.accessLogFormat.endsWith('\n') ? mesh.accessLogFormat : `${mesh.accessLogFormat}\n`) : ISTIO_TEXT_FORMAT;
    file.accessLogFormat = { case: 'logFormat', value: create(SubstitutionFormatStringSchema, { format: { case: 'textFormatSource', value: { specifier: { case: 'inlineString', value: text } } } }) };
  }
  return create(AccessLogSchema, { name: FILE_LOGGER, configType: { case: 'typedConfig', value: pack(FileAccessLogSchema, file) } });
}

function withLog(f: Filter, log: AccessLog): Filter {
  if (f.configType.case !== 'typedConfig') return f;
  const any = f.configType.value;
  if (any.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) {
    const h = anyUnpack(any, HttpConnectionManagerSchema);
    if (h === undefined) return f;
    h.accessLog = [log];
    return { ...f, configType: { case: 'typedConfig', value: pack(HttpConnectionManagerSchema, h) } };
  }
  if (any.typeUrl.endsWith(TcpProxySchema.typeName)) {
    const t = anyUnpack(any, TcpProxySchema);
    if (t === undefined) return f;
    t.accessLog = [log];
    return { ...f, configType: { case: 'typedConfig', value: pack(TcpProxySchema, t) } };
  }
  return f;
}

function chainWithLog(c: FilterChain, log: AccessLog): FilterChain {
  return { ...c, filters: c.filters.map((f) => withLog(f, log)) };
}

/** The listeners with the mesh's access logger on every HCM and tcp_proxy; unchanged when logging is off. */
export function withAccessLogs(listeners: readonly Listener[], mesh: MeshConfig): Listener[] {
  const log = meshAccessLog(mesh);
  if (log === undefined) return [...listeners];
  return listeners.map((l) => {
    if (l.apiListener !== undefined) return l;
    const c = clone(ListenerSchema, l);
    c.filterChains = c.filterChains.map((fc) => chainWithLog(fc, log));
    if (c.defaultFilterChain !== undefined) c.defaultFilterChain = chainWithLog(c.defaultFilterChain, log);
    return c;
  });
}

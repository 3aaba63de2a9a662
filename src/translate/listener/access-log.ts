// Access logging on a proxy's listeners, as Istio's accessLogBuilder sets it (pilot/pkg/networking/core/
// accesslog.go setHTTPAccessLog / setTCPAccessLog): every HTTP connection manager and tcp_proxy gets the loggers
// the Telemetry API configures for its listener class (telemetry/effective-access-logs.ts: SERVER for the
// inbound listener, CLIENT for outbound listeners and gateways); where no Telemetry and no
// defaultProviders.accessLogging say anything, the MeshConfig accessLogFile logger (accessLogEncoding,
// accessLogFormat), or nothing when that is ''. Applied as a last pass over the built listeners so the listener
// builders stay unaware of it. Pure; returns new listeners and the warnings for providers Isthmus cannot run.

import { clone } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { TrafficDirection } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import type { Filter, FilterChain } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { AccessLog } from '../../xds/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { HttpConnectionManagerSchema } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '../../xds/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { pack } from '../../xds/codec.js';
import type { Issue } from '../../lib/issue.js';
import type { MeshConfig } from '../../model/mesh-config.js';
import type { MeshSnapshot } from '../../model/snapshot.js';
import type { Proxy } from '../../model/proxy.js';
import type { Telemetry } from '../../api/telemetry/telemetry.js';
import { fileAccessLogFromMesh } from '../telemetry/file-access-log.js';
import { accessLogIssues, telemetriesInScope, telemetryAccessLogs } from '../telemetry/effective-access-logs.js';
import type { ListenerClass } from './http-filters.js';

/** The file access logger the mesh config asks for, or undefined when access logging is off. */
export function meshAccessLog(mesh: MeshConfig): AccessLog | undefined {
  return mesh.accessLogFile === '' ? undefined : fileAccessLogFromMesh(mesh.accessLogFile, mesh);
}

function withLogs(f: Filter, logs: readonly AccessLog[]): Filter {
  if (f.configType.case !== 'typedConfig') return f;
  const any = f.configType.value;
  if (any.typeUrl.endsWith(HttpConnectionManagerSchema.typeName)) {
    const h = anyUnpack(any, HttpConnectionManagerSchema);
    if (h === undefined) return f;
    h.accessLog = [...logs];
    return { ...f, configType: { case: 'typedConfig', value: pack(HttpConnectionManagerSchema, h) } };
  }
  if (any.typeUrl.endsWith(TcpProxySchema.typeName)) {
    const t = anyUnpack(any, TcpProxySchema);
    if (t === undefined) return f;
    t.accessLog = [...logs];
    return { ...f, configType: { case: 'typedConfig', value: pack(TcpProxySchema, t) } };
  }
  return f;
}

function chainWithLogs(c: FilterChain, logs: readonly AccessLog[]): FilterChain {
  return { ...c, filters: c.filters.map((f) => withLogs(f, logs)) };
}

/** Istio's ListenerClass of a built listener: gateways' are all `gateway`; a sidecar's inbound listener is the only INBOUND one. */
function classOf(proxy: Proxy, l: Listener): ListenerClass {
  if (proxy.type === 'router') return 'gateway';
  return l.trafficDirection === TrafficDirection.INBOUND ? 'sidecar-inbound' : 'sidecar-outbound';
}

/** The loggers for one listener class: Telemetry's when it configures any, else the mesh's accessLogFile logger. */
function logsForClass(telemetries: readonly Telemetry[], mesh: MeshConfig, cls: ListenerClass): readonly AccessLog[] {
  const fromTelemetry = telemetryAccessLogs(telemetries, mesh, cls);
  if (fromTelemetry !== undefined) return fromTelemetry;
  const m = meshAccessLog(mesh);
  return m === undefined ? [] : [m];
}

export interface ListenersWithAccessLogs {
  readonly listeners: Listener[];
  readonly issues: Issue[];
}

/** The listeners with their access loggers on every HCM and tcp_proxy; listeners without loggers are unchanged. */
export function withAccessLogs(listeners: readonly Listener[], snapshot: MeshSnapshot, proxy: Proxy): ListenersWithAccessLogs {
  const mesh = snapshot.mesh;
  const telemetries = proxy.type === 'proxyless' ? [] : telemetriesInScope((ns) => snapshot.telemetries(ns), mesh, { namespace: proxy.namespace, labels: proxy.labels });
  const byClass = new Map<ListenerClass, readonly AccessLog[]>();
  const out = listeners.map((l) => {
    if (l.apiListener !== undefined) return l;
    const cls = classOf(proxy, l);
    let logs = byClass.get(cls);
    if (logs === undefined) {
      logs = logsForClass(telemetries, mesh, cls);
      byClass.set(cls, logs);
    }
    if (logs.length === 0) return l;
    const c = clone(ListenerSchema, l);
    const chosen = logs;
    c.filterChains = c.filterChains.map((fc) => chainWithLogs(fc, chosen));
    if (c.defaultFilterChain !== undefined) c.defaultFilterChain = chainWithLogs(c.defaultFilterChain, chosen);
    return c;
  });
  return { listeners: out, issues: byClass.size > 0 ? accessLogIssues(telemetries, mesh) : [] };
}

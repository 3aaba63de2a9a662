// Istio's generateStatsConfig (pilot/pkg/model/telemetry.go): the stats.PluginConfig (istio/api
// envoy/extensions/stats/config.proto) of one prometheus provider for one listener class, as proto3 JSON with the
// proto's snake_case field names and default values omitted, keys in field order:
//   disable_host_header_fallback: true on inbound and gateway listeners (omitted on outbound);
//   tcp_reporting_duration: "15s", only when a Telemetry set reportingInterval;
//   metrics: one per merged override, [{dimensions: {tag: CEL expression}, name, tags_to_remove: [tag], drop}],
//     `name` being the Prometheus name without the `istio_` prefix (`requests_total`) or the custom metric's.
// Undefined when the class's metrics are all disabled (no filter). Pure.

import { toJson, type JsonObject } from '@bufbuild/protobuf';
import { DurationSchema } from '@bufbuild/protobuf/wkt';
import type { ListenerClass } from '../listener/http-filters.js';
import { durationFromString } from '../proto-values.js';
import { metricsForClass } from './effective-metrics.js';
import type { ProviderMetrics } from './merge-metrics.js';

/** metricToPrometheusMetric: Istio metric -> Prometheus name without the `istio_` prefix. */
const PROMETHEUS_NAMES: ReadonlyMap<string, string> = new Map(Object.entries({
  REQUEST_COUNT: 'requests_total',
  REQUEST_DURATION: 'request_duration_milliseconds',
  REQUEST_SIZE: 'request_bytes',
  RESPONSE_SIZE: 'response_bytes',
  TCP_OPENED_CONNECTIONS: 'tcp_connections_opened_total',
  TCP_CLOSED_CONNECTIONS: 'tcp_connections_closed_total',
  TCP_SENT_BYTES: 'tcp_sent_bytes_total',
  TCP_RECEIVED_BYTES: 'tcp_received_bytes_total',
  GRPC_REQUEST_MESSAGES: 'request_messages_total',
  GRPC_RESPONSE_MESSAGES: 'response_messages_total',
}));

/** disableHostHeaderFallback: inbound and gateways do not fall back to the Host header for the destination service. */
function disableHostHeaderFallback(cls: ListenerClass): boolean {
  return cls === 'sidecar-inbound' || cls === 'gateway';
}

/**
 * generateStatsConfig: the stats.PluginConfig (proto3 JSON) for one provider and listener class, or undefined
 * when the class's metrics are disabled. Keys follow the proto's field order.
 */
export function statsPluginConfig(m: ProviderMetrics, cls: ListenerClass): JsonObject | undefined {
  const mode = metricsForClass(m, cls);
  if (mode.disabled) return undefined;
  const out: JsonObject = {};
  if (disableHostHeaderFallback(cls)) out['disable_host_header_fallback'] = true;
  if (m.reportingInterval !== undefined) out['tcp_reporting_duration'] = toJson(DurationSchema, durationFromString(m.reportingInterval));
  const metrics: JsonObject[] = mode.overrides.map((o) => {
    // Tag names are user input: fromEntries keeps any name (`__proto__` too) as an own key.
    const dimensions: JsonObject = Object.fromEntries(o.tags.filter((t) => !t.remove).map((t) => [t.name, t.value]));
    const remove = o.tags.filter((t) => t.remove).map((t) => t.name);
    const name = PROMETHEUS_NAMES.get(o.name) ?? o.name;
    const mc: JsonObject = {};
    if (Object.keys(dimensions).length > 0) mc['dimensions'] = dimensions;
    if (name !== '') mc['name'] = name;
    if (remove.length > 0) mc['tags_to_remove'] = remove;
    if (o.disabled) mc['drop'] = true;
    return mc;
  });
  if (metrics.length > 0) out['metrics'] = metrics;
  return out;
}

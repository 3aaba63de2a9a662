// The `istio.stats` filters of a proxy's listeners (Istio's buildHTTPTelemetryFilter / buildTCPTelemetryFilter
// and generateStatsConfig, pilot/pkg/model/telemetry.go): one per prometheus provider in scope
// (effective-metrics.ts), in the HCM after cors (http-filters.ts `telemetry` slot) and on TCP chains right
// before tcp_proxy (networkfilter.go buildCompleteNetworkFilters, buildInboundBlackhole,
// buildOutboundCatchAllNetworkFiltersOnly). None for a class whose metrics are all disabled.
// Istio packs its own stats.PluginConfig proto; Isthmus sends the same message as a TypedStruct with type_url
// `type.googleapis.com/stats.PluginConfig` and the message's proto3 JSON as the value (stats-config.ts).
// Built once per (proxy translation, class); filters are shared, never mutated.

import { create } from '@bufbuild/protobuf';
import { FilterSchema, type Filter } from '../../xds/gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpFilterSchema, type HttpFilter } from '../../xds/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ProxyContext } from '../context.js';
import type { FilterChainOpts } from '../listener/filter-chain-opts.js';
import type { ListenerClass } from '../listener/http-filters.js';
import { effectiveMetrics } from './effective-metrics.js';
import { statsPluginConfig } from './stats-config.js';
import { typedStructAny } from './typed-struct.js';

export const STATS_FILTER = 'istio.stats';
export const STATS_PLUGIN_CONFIG_TYPE_URL = 'type.googleapis.com/stats.PluginConfig';

interface ClassFilters {
  readonly http: readonly HttpFilter[];
  readonly network: readonly Filter[];
}

const memo = new WeakMap<ProxyContext, Map<ListenerClass, ClassFilters>>();

function filtersFor(ctx: ProxyContext, cls: ListenerClass): ClassFilters {
  let byClass = memo.get(ctx);
  if (byClass === undefined) {
    byClass = new Map();
    memo.set(ctx, byClass);
  }
  let f = byClass.get(cls);
  if (f !== undefined) return f;
  const http: HttpFilter[] = [];
  const network: Filter[] = [];
  if (ctx.proxy.type !== 'proxyless') {
    const entries = effectiveMetrics((ns) => ctx.snapshot.telemetries(ns), ctx.snapshot.mesh, { namespace: ctx.proxy.namespace, labels: ctx.proxy.labels });
    for (const e of entries) {
      const cfg = statsPluginConfig(e.metrics, cls);
      if (cfg === undefined) continue;
      const any = typedStructAny(STATS_PLUGIN_CONFIG_TYPE_URL, cfg);
      http.push(create(HttpFilterSchema, { name: STATS_FILTER, configType: { case: 'typedConfig', value: any } }));
      network.push(create(FilterSchema, { name: STATS_FILTER, configType: { case: 'typedConfig', value: any } }));
    }
  }
  f = { http, network };
  byClass.set(cls, f);
  return f;
}

/** The HCM's telemetry filters for this proxy and class (Telemetries.HTTPFilters). */
export function statsHttpFilters(ctx: ProxyContext, cls: ListenerClass): readonly HttpFilter[] {
  return filtersFor(ctx, cls).http;
}

/** The network stats filters of a TCP chain, which go right before its tcp_proxy (Telemetries.TCPFilters). */
export function statsNetworkFilters(ctx: ProxyContext, cls: ListenerClass): readonly Filter[] {
  return filtersFor(ctx, cls).network;
}

/**
 * An outbound or gateway chain with its stats filters: an HCM chain gets them in its telemetry slot, a TCP chain
 * before its filters (a tcp_proxy; WasmPlugins are placed before these afterwards, as Istio orders them).
 */
export function chainWithStats(ctx: ProxyContext, cls: ListenerClass, c: FilterChainOpts): FilterChainOpts {
  if (c.http === undefined) {
    const stats = statsNetworkFilters(ctx, cls);
    return stats.length === 0 ? c : { ...c, networkFilters: [...stats, ...c.networkFilters] };
  }
  const telemetry = statsHttpFilters(ctx, cls);
  if (telemetry.length === 0) return c;
  return { ...c, http: { ...c.http, filters: { ...c.http.filters, telemetry } } };
}

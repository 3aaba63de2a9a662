// Envoy's admin /config_dump, /clusters and /listeners bodies, built from the xDS client's tables.
// Shapes follow envoy/admin/v3/config_dump_shared.proto (ClustersConfigDump, ListenersConfigDump,
// RoutesConfigDump, EndpointsConfigDump; snake_case JSON, Anys with `@type`) and Envoy's text
// /clusters (`<cluster>::<host:port>::<stat>::<value>`) and /listeners (`<name>::<address>`) output.

import type { DescMessage, JsonObject, JsonValue, MessageShape } from '@bufbuild/protobuf';
import { toDumpJson } from '../../xds/codec.js';
import type { Address } from '../../xds/gen/envoy/config/core/v3/address_pb.js';
import { Cluster_DiscoveryType } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HealthStatus } from '../../xds/gen/envoy/config/core/v3/health_check_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds/type-urls.js';
import type { ResourceTable, TypeState } from '../xds-client/ads-client.js';
import { SCHEMAS, type ProxyTypeUrl, type ResourceByType } from '../xds-client/validate.js';

export interface DumpSource {
  table<T extends ProxyTypeUrl>(type: T): ResourceTable<ResourceByType[T]>;
  typeState(type: ProxyTypeUrl): TypeState;
  /**
   * The data plane's live health_flags of a host (active health checks, outlier ejection, EDS health), e.g.
   * `(c, h) => clusterManager.get(c)?.healthFlags(h)`; when absent or undefined, /clusters shows the
   * EDS health from the xDS tables.
   */
  hostHealthFlags?(cluster: string, host: string): string | undefined;
}

function typed<D extends DescMessage>(schema: D, m: MessageShape<D>): JsonObject {
  return { '@type': `type.googleapis.com/${schema.typeName}`, ...(toDumpJson(schema, m) as JsonObject) };
}

function entries<T extends ProxyTypeUrl>(src: DumpSource, type: T, field: string): JsonValue[] {
  const schema: DescMessage = SCHEMAS[type];
  return [...src.table(type).values()].map((e) => ({
    version_info: e.version,
    [field]: typed(schema, e.message as MessageShape<DescMessage>),
    last_updated: e.lastUpdated,
  }));
}

export function configDump(src: DumpSource): JsonObject {
  return {
    configs: [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
        version_info: src.typeState(CLUSTER_TYPE).version,
        dynamic_active_clusters: entries(src, CLUSTER_TYPE, 'cluster'),
      },
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        version_info: src.typeState(LISTENER_TYPE).version,
        dynamic_listeners: [...src.table(LISTENER_TYPE).entries()].map(([name, e]) => ({
          name,
          active_state: { version_info: e.version, listener: typed(SCHEMAS[LISTENER_TYPE], e.message as MessageShape<DescMessage>), last_updated: e.lastUpdated },
        })),
      },
      { '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: entries(src, ROUTE_TYPE, 'route_config') },
      { '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump', dynamic_endpoint_configs: entries(src, ENDPOINT_TYPE, 'endpoint_config') },
    ],
  };
}

export function formatAddress(a: Address | undefined): string {
  if (a?.address.case === 'socketAddress') {
    const s = a.address.value;
    const port = s.portSpecifier.case === 'portValue' ? s.portSpecifier.value : 0;
    return `${s.address.includes(':') ? `[${s.address}]` : s.address}:${port}`;
  }
  if (a?.address.case === 'pipe') return a.address.value.path;
  return '';
}

/** Envoy's text /clusters: per cluster its observability name, then per endpoint its stats and attributes. */
export function clustersText(src: DumpSource): string {
  const lines: string[] = [];
  const endpoints = src.table(ENDPOINT_TYPE);
  for (const [name, { message: c }] of src.table(CLUSTER_TYPE)) {
    lines.push(`${name}::observability_name::${c.altStatName || name}`, `${name}::added_via_api::true`);
    const edsName = c.edsClusterConfig?.serviceName || name;
    const cla = c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS ? endpoints.get(edsName)?.message : c.loadAssignment;
    for (const l of cla?.endpoints ?? []) {
      for (const e of l.lbEndpoints) {
        if (e.hostIdentifier.case !== 'endpoint') continue;
        const address = formatAddress(e.hostIdentifier.value.address);
        const host = `${name}::${address}`;
        const unhealthy = e.healthStatus === HealthStatus.UNHEALTHY || e.healthStatus === HealthStatus.DRAINING || e.healthStatus === HealthStatus.TIMEOUT;
        const live = src.hostHealthFlags?.(name, address);
        lines.push(
          `${host}::health_flags::${live ?? (unhealthy ? '/failed_eds_health' : 'healthy')}`,
          `${host}::weight::${e.loadBalancingWeight ?? 1}`,
          `${host}::region::${l.locality?.region ?? ''}`,
          `${host}::zone::${l.locality?.zone ?? ''}`,
          `${host}::sub_zone::${l.locality?.subZone ?? ''}`,
          `${host}::canary::false`,
          `${host}::priority::${l.priority}`,
        );
      }
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** Envoy's text /listeners: `<name>::<address>` per listener. */
export function listenersText(src: DumpSource): string {
  return [...src.table(LISTENER_TYPE).entries()].map(([name, e]) => `${name}::${e.message.apiListener !== undefined ? 'api_listener' : formatAddress(e.message.address)}\n`).join('');
}

// /debug/config_dump?proxyID=: what the server would send a proxy now, shaped like Envoy's admin
// config_dump (envoy.admin.v3.ConfigDump: ClustersConfigDump, EndpointsConfigDump, ListenersConfigDump,
// RoutesConfigDump, SecretsConfigDump, in Envoy's order) in proto3 JSON with Anys expanded, as istiod's
// /debug/config_dump does. Every generated resource is listed, whatever the proxy subscribed to.

import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE, type XdsTypeUrl } from '../xds/type-urls.js';
import { typeVersion, versionsOf, type GeneratedResource, type ProxyGeneration } from './generation.js';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';

function section(
  gen: ProxyGeneration,
  typeUrl: XdsTypeUrl,
  dumpType: string,
  listField: string,
  entry: (r: GeneratedResource) => JsonObject,
): JsonObject {
  const resources = gen.byType.get(typeUrl) ?? new Map<string, GeneratedResource>();
  return {
    '@type': ADMIN + dumpType,
    versionInfo: typeVersion(versionsOf(resources)),
    [listField]: [...resources.values()].map(entry),
  };
}

export function configDump(gen: ProxyGeneration): JsonValue {
  return {
    configs: [
      section(gen, CLUSTER_TYPE, 'ClustersConfigDump', 'dynamicActiveClusters', (r) => ({ versionInfo: r.version, cluster: r.dump() })),
      section(gen, ENDPOINT_TYPE, 'EndpointsConfigDump', 'dynamicEndpointConfigs', (r) => ({ versionInfo: r.version, endpointConfig: r.dump() })),
      section(gen, LISTENER_TYPE, 'ListenersConfigDump', 'dynamicListeners', (r) => ({
        name: r.name,
        activeState: { versionInfo: r.version, listener: r.dump() },
      })),
      section(gen, ROUTE_TYPE, 'RoutesConfigDump', 'dynamicRouteConfigs', (r) => ({ versionInfo: r.version, routeConfig: r.dump() })),
      section(gen, SECRET_TYPE, 'SecretsConfigDump', 'dynamicActiveSecrets', (r) => ({ name: r.name, versionInfo: r.version, secret: r.dump() })),
    ],
  };
}

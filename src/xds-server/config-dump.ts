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

/** Fields Envoy marks `udpa.annotations.sensitive` in a Secret (TlsCertificate, GenericSecret, session keys). */
const SENSITIVE = new Set(['privateKey', 'password', 'secret', 'keys']);
const REDACTED = '[redacted]';
/** Envoy's redaction of a bytes leaf: the bytes of `[redacted]`, base64 in JSON. */
const REDACTED_BYTES = Buffer.from(REDACTED).toString('base64');

/** Every leaf under a sensitive field replaced, as Envoy's config_dump (MessageUtil::redact) prints it. */
function redactLeaves(v: JsonValue, key: string): JsonValue {
  if (Array.isArray(v)) return v.map((x) => redactLeaves(x, key));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactLeaves(x, k)]));
  if (typeof v === 'string') return key.endsWith('Bytes') || key === 'keys' ? REDACTED_BYTES : REDACTED;
  return v;
}

/** A secret's dump with its private keys and passwords redacted: a debug endpoint must never leak them. */
export function redactSecret(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(redactSecret);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SENSITIVE.has(k) ? redactLeaves(x, k) : redactSecret(x)]));
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
      section(gen, SECRET_TYPE, 'SecretsConfigDump', 'dynamicActiveSecrets', (r) => ({ name: r.name, versionInfo: r.version, secret: redactSecret(r.dump()) })),
    ],
  };
}

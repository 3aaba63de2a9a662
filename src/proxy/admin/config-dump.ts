// Envoy's admin /config_dump body (envoy.admin.v3.ConfigDump, envoy/admin/v3/config_dump.proto and
// config_dump_shared.proto), built from the bootstrap and the xDS client's accepted tables. Sections come in
// Envoy's order, each an Any with `@type`: Bootstrap, Clusters, Endpoints (only with ?include_eds, as
// Envoy), Listeners, ScopedRoutes (always empty here), Routes, Secrets. Like Envoy it prints protobuf JSON
// with the proto field names (snake_case: `version_info`, `filter_chains`), implicit defaults left out, and
// every message redacted (redact.ts: private keys print as `[redacted]`).
// Static entries are the bootstrap's static resources, plus, as Envoy's route config provider lists them,
// the inline route_config of every HTTP connection manager under static_route_configs. Endpoints list the
// EDS assignments and the load_assignment of the clusters that carry their own (Envoy lists every cluster's
// hosts there). Secrets subscribed over SDS but not delivered yet are warming.

import { create, toJson, type DescMessage, type JsonObject, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { anyPack, timestampFromDate, type Any, type Timestamp } from '@bufbuild/protobuf/wkt';
import { BootstrapConfigDumpSchema, SecretsConfigDumpSchema } from '../../xds/gen/envoy/admin/v3/config_dump_pb.js';
import { ClustersConfigDumpSchema, EndpointsConfigDumpSchema, ListenersConfigDumpSchema, RoutesConfigDumpSchema, ScopedRoutesConfigDumpSchema } from '../../xds/gen/envoy/admin/v3/config_dump_shared_pb.js';
import { BootstrapSchema, type Bootstrap } from '../../xds/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema, type Listener } from '../../xds/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../xds/gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, SECRET_TYPE } from '../../xds/type-urls.js';
import { hcmOf } from '../xds-client/validate.js';
import { DUMP_REGISTRY } from './dump-registry.js';
import type { DumpSource, LoadedBootstrap } from './dump-source.js';
import type { ResourceEntry } from '../xds-client/ads-client.js';
import { redacted } from './redact.js';

export type { DumpSource } from './dump-source.js';
/** Re-exported for importers of the earlier single admin module. */
export { clustersText } from './clusters-status.js';

export interface DumpOptions {
  /** ?include_eds: add the EndpointsConfigDump. */
  readonly includeEds?: boolean;
}

/** Packed, redacted resources by the immutable object they came from (a table entry or a bootstrap message). */
const packed = new WeakMap<object, Any>();

function pack<D extends DescMessage>(schema: D, m: MessageShape<D>, key?: object): Any {
  const hit = key !== undefined ? packed.get(key) : undefined;
  if (hit !== undefined) return hit;
  const any = anyPack(schema, redacted(schema, m, DUMP_REGISTRY));
  if (key !== undefined) packed.set(key, any);
  return any;
}

/** `{ lastUpdated }` from an ISO time, nothing when there is none. */
function at(iso: string | undefined): { lastUpdated?: Timestamp } {
  const ms = iso !== undefined && iso !== '' ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? {} : { lastUpdated: timestampFromDate(new Date(ms)) };
}

/** `v` with every Any's `@type` before its fields, as Envoy prints them (protobuf-es puts it last). */
function typeFirst(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(typeFirst);
  if (v === null || typeof v !== 'object') return v;
  const out: JsonObject = {};
  const type = v['@type'];
  if (type !== undefined) out['@type'] = type;
  for (const [k, x] of Object.entries(v)) if (k !== '@type') out[k] = typeFirst(x);
  return out;
}

function section<D extends DescMessage>(schema: D, m: MessageShape<D>): JsonObject {
  return { '@type': `type.googleapis.com/${schema.typeName}`, ...(typeFirst(toJson(schema, m, { registry: DUMP_REGISTRY, useProtoFieldName: true })) as JsonObject) };
}

function bootstrapSection(b: LoadedBootstrap): JsonObject {
  const running: Bootstrap = { ...b.config, node: b.node };
  return section(BootstrapConfigDumpSchema, create(BootstrapConfigDumpSchema, { bootstrap: redacted(BootstrapSchema, running, DUMP_REGISTRY), ...at(b.loadedAt) }));
}

function clustersSection(src: DumpSource, statics: readonly Cluster[]): JsonObject {
  return section(
    ClustersConfigDumpSchema,
    create(ClustersConfigDumpSchema, {
      versionInfo: src.typeState(CLUSTER_TYPE).version,
      staticClusters: statics.map((c) => ({ cluster: pack(ClusterSchema, c, c), ...at(src.bootstrap?.loadedAt) })),
      dynamicActiveClusters: [...(src.servingTable?.(CLUSTER_TYPE) ?? src.table(CLUSTER_TYPE)).values()].map((e) => ({ versionInfo: e.version, cluster: pack(ClusterSchema, e.message, e), ...at(e.lastUpdated) })),
      dynamicWarmingClusters: [...(src.warming?.(CLUSTER_TYPE) ?? new Map<string, ResourceEntry<Cluster>>()).values()].map((e) => ({ versionInfo: e.version, cluster: pack(ClusterSchema, e.message, e), ...at(e.lastUpdated) })),
    }),
  );
}

function endpointsSection(src: DumpSource, statics: readonly Cluster[]): JsonObject {
  const named = (c: Cluster, cla: ClusterLoadAssignment): ClusterLoadAssignment => (cla.clusterName !== '' ? cla : { ...cla, clusterName: c.name });
  const eds = src.table(ENDPOINT_TYPE);
  const listed = new Set<string>();
  const dynamic: { versionInfo?: string; endpointConfig: Any; lastUpdated?: Timestamp }[] = [];
  const edsEntry = (name: string): void => {
    const e = eds.get(name);
    if (e === undefined || listed.has(name)) return;
    listed.add(name);
    dynamic.push({ versionInfo: e.version, endpointConfig: pack(ClusterLoadAssignmentSchema, e.message, e), ...at(e.lastUpdated) });
  };
  for (const [name, e] of src.table(CLUSTER_TYPE)) {
    const c = e.message;
    if (c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS) edsEntry(c.edsClusterConfig?.serviceName || name);
    else if (c.loadAssignment !== undefined) dynamic.push({ endpointConfig: pack(ClusterLoadAssignmentSchema, named(c, c.loadAssignment)), ...at(e.lastUpdated) });
  }
  for (const name of eds.keys()) edsEntry(name);
  return section(
    EndpointsConfigDumpSchema,
    create(EndpointsConfigDumpSchema, {
      staticEndpointConfigs: statics.flatMap((c) => (c.loadAssignment !== undefined ? [{ endpointConfig: pack(ClusterLoadAssignmentSchema, named(c, c.loadAssignment)), ...at(src.bootstrap?.loadedAt) }] : [])),
      dynamicEndpointConfigs: dynamic,
    }),
  );
}

function listenersSection(src: DumpSource, statics: readonly Listener[]): JsonObject {
  return section(
    ListenersConfigDumpSchema,
    create(ListenersConfigDumpSchema, {
      versionInfo: src.typeState(LISTENER_TYPE).version,
      staticListeners: statics.map((l) => ({ listener: pack(ListenerSchema, l, l), ...at(src.bootstrap?.loadedAt) })),
      dynamicListeners: dynamicListeners(src),
    }),
  );
}

/**
 * Each dynamic listener by name: the version serving (active_state) and, while an accepted version waits for
 * its routes or secrets, that one (warming_state); a new listener that is still warming has only the latter.
 */
function dynamicListeners(src: DumpSource) {
  const active = src.servingTable?.(LISTENER_TYPE) ?? src.table(LISTENER_TYPE);
  const warming = src.warming?.(LISTENER_TYPE) ?? new Map<string, ResourceEntry<Listener>>();
  const names = [...new Set([...active.keys(), ...warming.keys()])].sort();
  const state = (e: ResourceEntry<Listener> | undefined) => (e === undefined ? undefined : { versionInfo: e.version, listener: pack(ListenerSchema, e.message, e), ...at(e.lastUpdated) });
  return names.map((name) => {
    const a = state(active.get(name));
    const w = state(warming.get(name));
    return { name, ...(a !== undefined ? { activeState: a } : {}), ...(w !== undefined ? { warmingState: w } : {}) };
  });
}

/** The inline route configs of a listener's HTTP connection managers, in filter chain order. */
function inlineRoutes(l: Listener, lastUpdated: string | undefined): { routeConfig: Any; lastUpdated?: Timestamp }[] {
  const hcms = [...l.filterChains, ...(l.defaultFilterChain !== undefined ? [l.defaultFilterChain] : [])].flatMap((fc) =>
    fc.filters.map((f) => (f.configType.case === 'typedConfig' ? hcmOf(f.configType.value) : undefined)),
  );
  if (l.apiListener?.apiListener !== undefined) hcms.push(hcmOf(l.apiListener.apiListener));
  return hcms.flatMap((h) => (h?.routeSpecifier.case === 'routeConfig' ? [{ routeConfig: pack(RouteConfigurationSchema, h.routeSpecifier.value), ...at(lastUpdated) }] : []));
}

function routesSection(src: DumpSource, staticListeners: readonly Listener[]): JsonObject {
  return section(
    RoutesConfigDumpSchema,
    create(RoutesConfigDumpSchema, {
      staticRouteConfigs: [
        ...staticListeners.flatMap((l) => inlineRoutes(l, src.bootstrap?.loadedAt)),
        ...[...src.table(LISTENER_TYPE).values()].flatMap((e) => inlineRoutes(e.message, e.lastUpdated)),
      ],
      dynamicRouteConfigs: [...src.table(ROUTE_TYPE).values()].map((e) => ({ versionInfo: e.version, routeConfig: pack(RouteConfigurationSchema, e.message, e), ...at(e.lastUpdated) })),
    }),
  );
}

function secretsSection(src: DumpSource): JsonObject {
  const active = src.table(SECRET_TYPE);
  const statics = src.bootstrap?.config.staticResources?.secrets ?? [];
  return section(
    SecretsConfigDumpSchema,
    create(SecretsConfigDumpSchema, {
      staticSecrets: statics.map((s) => ({ name: s.name, secret: pack(SecretSchema, s, s) })),
      dynamicActiveSecrets: [
        ...(src.agentSecrets?.() ?? []).map((a) => ({ name: a.name, versionInfo: a.version, ...at(a.lastUpdated), secret: pack(SecretSchema, a.secret, a.secret) })),
        ...[...active].map(([name, e]) => ({ name, versionInfo: e.version, ...at(e.lastUpdated), secret: pack(SecretSchema, e.message, e) })),
      ],
      // Subscribed, not delivered yet: Envoy lists such a secret with its name only.
      dynamicWarmingSecrets: src
        .typeState(SECRET_TYPE)
        .names.filter((n) => !active.has(n))
        .map((name) => ({ name, secret: pack(SecretSchema, create(SecretSchema, { name })) })),
    }),
  );
}

/** The /config_dump body. */
export function configDump(src: DumpSource, o: DumpOptions = {}): JsonObject {
  const statics = src.bootstrap?.config.staticResources;
  const clusters = statics?.clusters ?? [];
  const listeners = statics?.listeners ?? [];
  return {
    configs: [
      ...(src.bootstrap !== undefined ? [bootstrapSection(src.bootstrap)] : []),
      clustersSection(src, clusters),
      ...(o.includeEds === true ? [endpointsSection(src, clusters)] : []),
      listenersSection(src, listeners),
      section(ScopedRoutesConfigDumpSchema, create(ScopedRoutesConfigDumpSchema)),
      routesSection(src, listeners),
      secretsSection(src),
    ],
  };
}

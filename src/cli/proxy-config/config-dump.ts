// An Envoy admin /config_dump (envoy.admin.v3.ConfigDump) read as plain JSON: its `configs` sections
// by `@type`, and the resources each holds, static and dynamic, in the order istioctl lists them
// (dynamic first). Parsing the JSON shape rather than our own types keeps every command working on dumps
// saved from Envoy itself (`curl localhost:15000/config_dump > dump.json`).

import { asObject, list, obj, type JsonObject } from './json-fields.js';

/** The ConfigDump section types (envoy/admin/v3/config_dump.proto and config_dump_shared.proto). */
export const DUMP_SECTIONS = {
  bootstrap: 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
  clusters: 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
  listeners: 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
  routes: 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
  endpoints: 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
  secrets: 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
} as const;

export type DumpSection = keyof typeof DUMP_SECTIONS;

export class ConfigDump {
  readonly #configs: readonly JsonObject[];

  constructor(
    /** The dump as read, for `-o json|yaml` of everything. */
    readonly raw: JsonObject,
    configs: readonly JsonObject[],
  ) {
    this.#configs = configs;
  }

  /** The section of that type; the last one wins when several are present, as in istioctl. */
  section(kind: DumpSection): JsonObject | undefined {
    const type = DUMP_SECTIONS[kind];
    let found: JsonObject | undefined;
    for (const c of this.#configs) if (c['@type'] === type) found = c;
    return found;
  }

  has(kind: DumpSection): boolean {
    return this.section(kind) !== undefined;
  }
}

/** The dump in `value`, or undefined when it is not shaped as one (no `configs` list). */
export function parseConfigDump(value: unknown): ConfigDump | undefined {
  const root = asObject(value);
  const configs = root?.['configs'];
  if (root === undefined || !Array.isArray(configs)) return undefined;
  return new ConfigDump(root, configs.map(asObject).filter((c): c is JsonObject => c !== undefined));
}

/** Resources of a section: each wrapper's `inner` message (an Any with `@type`), dynamic ones first. */
function resources(section: JsonObject | undefined, groups: readonly (readonly [string, readonly string[]])[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const [group, path] of groups) {
    for (const wrapper of list(section, group)) {
      let m: JsonObject | undefined = wrapper;
      for (const step of path) m = obj(m, step);
      if (m !== undefined) out.push(m);
    }
  }
  return out;
}

export function dumpClusters(d: ConfigDump): JsonObject[] {
  return resources(d.section('clusters'), [
    ['dynamic_active_clusters', ['cluster']],
    ['static_clusters', ['cluster']],
  ]);
}

export function dumpListeners(d: ConfigDump): JsonObject[] {
  return resources(d.section('listeners'), [
    ['dynamic_listeners', ['active_state', 'listener']],
    ['static_listeners', ['listener']],
  ]);
}

export function dumpRouteConfigs(d: ConfigDump): JsonObject[] {
  return resources(d.section('routes'), [
    ['dynamic_route_configs', ['route_config']],
    ['static_route_configs', ['route_config']],
  ]);
}

export function dumpEndpointConfigs(d: ConfigDump): JsonObject[] {
  return resources(d.section('endpoints'), [
    ['dynamic_endpoint_configs', ['endpoint_config']],
    ['static_endpoint_configs', ['endpoint_config']],
  ]);
}

/** A table ready for renderTable: upper-case headers and one string per cell. */
export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

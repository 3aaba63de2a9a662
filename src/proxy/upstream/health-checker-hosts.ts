// Host-set bookkeeping that active health checking adds to service discovery (Envoy's "eventually consistent"
// discovery, intro/arch_overview/upstream/load_balancing/overview and upstream_impl.cc
// updateDynamicHostList): with active health checks and without ignore_health_on_host_removal, a host that
// EDS removes stays in the set (flagged /pending_dynamic_removal) while it passes its checks and was not
// marked unhealthy by EDS, and leaves once it fails. This file only rebuilds immutable HostSets; it also
// reads, per endpoint, the health_check_config that host.ts does not keep (check port/address override,
// hostname, disable_active_health_check). Nothing here does I/O.

import type { ClusterLoadAssignment } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Endpoint } from '../../xds/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { healthClass, hostKey, type Host, type HostLocality, type HostSet, type LocalityHosts, type PriorityLevel } from './host.js';

/** What the health checker needs to know about one endpoint, keyed like its Host. */
export interface HostCheckSpec {
  readonly key: string;
  /** Where checks connect: health_check_config.address / port_value when set, else the endpoint's. */
  readonly address: string;
  readonly port: number;
  /** health_check_config.hostname ('' when unset). */
  readonly hostname: string;
  /** health_check_config.disable_active_health_check: the host is never checked and never failed. */
  readonly disabled: boolean;
  /** The endpoint's envoy.transport_socket_match metadata. */
  readonly socketMatch: Readonly<Record<string, string>> | undefined;
}

function socketMatchOf(m: Record<string, unknown> | undefined): Readonly<Record<string, string>> | undefined {
  if (m === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The check spec of every usable endpoint of an assignment (the same endpoints hostSetFromAssignment keeps). */
export function hostCheckSpecs(cla: ClusterLoadAssignment | undefined): Map<string, HostCheckSpec> {
  const out = new Map<string, HostCheckSpec>();
  for (const lle of cla?.endpoints ?? []) {
    for (const lbe of lle.lbEndpoints) {
      const id = lbe.hostIdentifier;
      const ep: Endpoint | undefined = id.case === 'endpoint' ? id.value : id.case === 'endpointName' ? cla?.namedEndpoints[id.value] : undefined;
      const a = ep?.address?.address;
      if (ep === undefined || a?.case !== 'socketAddress' || a.value.portSpecifier.case !== 'portValue') continue;
      const key = hostKey(a.value.address, a.value.portSpecifier.value);
      const hc = ep.healthCheckConfig;
      const override = hc?.address?.address;
      const overrideSa = override?.case === 'socketAddress' ? override.value : undefined;
      const address = overrideSa?.address || a.value.address;
      const basePort = overrideSa?.portSpecifier.case === 'portValue' && overrideSa.portSpecifier.value !== 0 ? overrideSa.portSpecifier.value : a.value.portSpecifier.value;
      out.set(key, {
        key,
        address,
        port: hc !== undefined && hc.portValue !== 0 ? hc.portValue : basePort,
        hostname: hc?.hostname ?? '',
        disabled: hc?.disableActiveHealthCheck ?? false,
        socketMatch: socketMatchOf(lbe.metadata?.filterMetadata['envoy.transport_socket_match'] as Record<string, unknown> | undefined),
      });
    }
  }
  return out;
}

/**
 * The hosts of `previous` an update leaves out that stay (Envoy's updateDynamicHostList): checked (a spec, not
 * disabled), not failed by their checks, and not marked unhealthy by EDS.
 */
export function retainedHosts(previous: HostSet, previousSpecs: ReadonlyMap<string, HostCheckSpec>, next: HostSet, isFailed: (key: string) => boolean): Host[] {
  const present = new Set(next.hosts.map((h) => h.key));
  return previous.hosts.filter((h) => {
    const spec = previousSpecs.get(h.key);
    return !present.has(h.key) && spec !== undefined && !spec.disabled && !isFailed(h.key) && healthClass(h.health) !== 'unhealthy';
  });
}

function localityId(l: HostLocality): string {
  return `${l.region}\u0000${l.zone}\u0000${l.subZone}`;
}

function compareLocality(a: HostLocality, b: HostLocality): number {
  if (a.region !== b.region) return a.region < b.region ? -1 : 1;
  if (a.zone !== b.zone) return a.zone < b.zone ? -1 : 1;
  if (a.subZone !== b.subZone) return a.subZone < b.subZone ? -1 : 1;
  return 0;
}

interface Group {
  locality: HostLocality;
  weight: number;
  hosts: Host[];
}

interface Level {
  hosts: Host[];
  groups: Map<string, Group>;
}

function thaw(set: HostSet): Level[] {
  return set.priorities.map((p) => ({
    hosts: [...p.hosts],
    groups: new Map(p.localities.map((l) => [localityId(l.locality), { locality: l.locality, weight: l.weight, hosts: [...l.hosts] }])),
  }));
}

function freeze(base: HostSet, levels: readonly Level[]): HostSet {
  const priorities: PriorityLevel[] = levels.map((level, priority) => {
    const localities: LocalityHosts[] = [...level.groups.values()]
      .sort((a, b) => compareLocality(a.locality, b.locality))
      .map((g) => Object.freeze({ locality: g.locality, weight: g.weight, hosts: Object.freeze(g.hosts) }));
    return Object.freeze({ priority, hosts: Object.freeze(level.hosts), localities: Object.freeze(localities) });
  });
  return Object.freeze({ ...base, priorities: Object.freeze(priorities), hosts: Object.freeze(priorities.flatMap((p) => p.hosts)) });
}

/** `next` plus `retained` hosts, each in its old priority and locality (with that locality's old weight). */
export function withRetainedHosts(next: HostSet, retained: readonly Host[], previous: HostSet): HostSet {
  if (retained.length === 0) return next;
  const levels = thaw(next);
  for (const h of retained) {
    while (levels.length <= h.priority) levels.push({ hosts: [], groups: new Map() });
    const level = levels[h.priority] as Level;
    const id = localityId(h.locality);
    let g = level.groups.get(id);
    if (g === undefined) {
      const old = previous.priorities[h.priority]?.localities.find((l) => localityId(l.locality) === id);
      g = { locality: h.locality, weight: old?.weight ?? 0, hosts: [] };
      level.groups.set(id, g);
    }
    g.hosts.push(h);
    level.hosts.push(h);
  }
  return freeze(next, levels);
}

/** `set` without the hosts in `keys`; a locality left empty by the removal goes too. */
export function withoutHosts(set: HostSet, keys: ReadonlySet<string>): HostSet {
  if (!set.hosts.some((h) => keys.has(h.key))) return set;
  const levels = thaw(set);
  for (const level of levels) {
    level.hosts = level.hosts.filter((h) => !keys.has(h.key));
    for (const [id, g] of level.groups) {
      const kept = g.hosts.filter((h) => !keys.has(h.key));
      if (kept.length === 0 && g.hosts.length > 0) level.groups.delete(id);
      else g.hosts = kept;
    }
  }
  return freeze(set, levels);
}

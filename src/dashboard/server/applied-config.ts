// The Istio config that applies to a service or a workload, for their pages, each entry with the id of
// its /config page and why it applies:
//  - by host, for the service's host names (a workload's: those of the services that select it): the
//    Service itself, ServiceEntries whose hosts include one, DestinationRules whose host names one,
//    VirtualServices bound to the mesh whose hosts name one, and gateway VirtualServices whose routes
//    send to one (as `x describe` finds them; a gateway VirtualService for `*` names every host, and
//    only the ones that route here are worth listing). Short names resolve in the resource's namespace.
//  - by workload: AuthorizationPolicies, PeerAuthentications, RequestAuthentications, Telemetries,
//    WasmPlugins and EnvoyFilters that select it (src/model/policy-selection.ts, as `x describe`), a
//    Telemetry with a selector only in the workload's own namespace (Istio's applicableTelemetries); the
//    Sidecar in effect (the snapshot's choice: workload-selected, namespace default, root default); and
//    the Gateways whose selector picks it (any namespace, as Istio without PILOT_SCOPE_GATEWAY_TO_NAMESPACE).
// Pure.

import type { ResourceEntry } from '../../api/entry.js';
import { hostMatches } from '../../api/host.js';
import { isKind } from '../../api/kind.js';
import { SERVICE } from '../../api/core/service.js';
import { WASM_PLUGIN } from '../../api/extensions/wasm-plugin.js';
import { DESTINATION_RULE } from '../../api/networking/destination-rule.js';
import { ENVOY_FILTER } from '../../api/networking/envoy-filter.js';
import { ISTIO_GATEWAY } from '../../api/networking/gateway.js';
import { SERVICE_ENTRY } from '../../api/networking/service-entry.js';
import { SIDECAR } from '../../api/networking/sidecar.js';
import { effectiveGateways, MESH_GATEWAY, VIRTUAL_SERVICE, type VirtualService } from '../../api/networking/virtual-service.js';
import { AUTHORIZATION_POLICY } from '../../api/security/authorization-policy.js';
import { PEER_AUTHENTICATION } from '../../api/security/peer-authentication.js';
import { REQUEST_AUTHENTICATION } from '../../api/security/request-authentication.js';
import { TELEMETRY } from '../../api/telemetry/telemetry.js';
import { DEFAULT_MESH_CONFIG } from '../../model/mesh-config.js';
import { policyLevelFor, type PolicyLevel, type PolicyPlacement } from '../../model/policy-selection.js';
import type { MeshSnapshot } from '../../model/snapshot.js';
import { resolveGatewayName, resolveShortname } from '../../model/virtual-services.js';
import { selectorMatches } from '../../registry/labels.js';
import type { Labels } from '../../registry/types.js';
import type { AppliedConfig } from '../shared/api-types.js';
import { entryId } from './config-view.js';

export interface ConfigTargetWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
}

export interface ConfigTarget {
  /** FQDNs (or ServiceEntry hosts) of the service, or of the services a workload belongs to. */
  readonly hosts: readonly string[];
  /** The workloads policies are checked against: the workload, or a service's workloads. */
  readonly workloads: readonly ConfigTargetWorkload[];
}

/** The order entries are listed in: what defines the service, traffic rules, then policies. */
const KIND_ORDER = ['Service', 'ServiceEntry', 'VirtualService', 'DestinationRule', 'Gateway', 'Sidecar', 'PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication', 'Telemetry', 'WasmPlugin', 'EnvoyFilter'];

function labelText(l: Labels): string {
  return Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

interface Resolver {
  readonly suffix: string;
  /** Whether a config host (resolved in `namespace`) names one of the target's hosts. */
  names(host: string, namespace: string): boolean;
}

function virtualServiceWhy(vs: VirtualService, namespace: string, r: Resolver, target: ConfigTarget): string | undefined {
  const gateways = effectiveGateways(vs);
  if (gateways.includes(MESH_GATEWAY)) {
    const named = (vs.spec.hosts ?? []).filter((h) => r.names(h, namespace));
    if (named.length > 0) return `hosts: ${named.join(', ')}`;
  }
  const routes = [...(vs.spec.http ?? []), ...(vs.spec.tcp ?? []), ...(vs.spec.tls ?? [])];
  const to = new Set<string>();
  for (const route of routes)
    for (const d of route.route ?? []) {
      const host = resolveShortname(d.destination?.host ?? '', namespace, r.suffix);
      if (target.hosts.includes(host)) to.add(d.destination?.host ?? '');
    }
  const viaGateways = gateways.filter((g) => g !== MESH_GATEWAY).map((g) => resolveGatewayName(g, namespace));
  if (to.size === 0 || viaGateways.length === 0) return undefined;
  return `routes to ${[...to].join(', ')} through ${viaGateways.join(', ')}`;
}

/** Why a policy applies to some of the workloads, or undefined. */
function policyWhy(p: PolicyPlacement, target: ConfigTarget, rootNamespace: string, rootSelectorReachesAll: boolean): string | undefined {
  const selected: string[] = [];
  let level: PolicyLevel | undefined;
  for (const w of target.workloads) {
    const l = policyLevelFor(p, w, rootNamespace);
    if (l === undefined) continue;
    if (l === 'workload' && !rootSelectorReachesAll && p.namespace === rootNamespace && w.namespace !== rootNamespace) continue;
    level = l;
    selected.push(w.name);
  }
  if (level === undefined) return undefined;
  if (level === 'mesh') return `mesh-wide (root namespace ${rootNamespace})`;
  if (level === 'namespace') return `namespace-wide (${p.namespace})`;
  const which = target.workloads.length > 1 ? `: ${selected.join(', ')}` : '';
  return `selects ${labelText(p.selector ?? {})}${which}`;
}

function gatewayWhy(selector: Labels | undefined, target: ConfigTarget): string | undefined {
  if (selector === undefined || Object.keys(selector).length === 0) return undefined;
  const selected = target.workloads.filter((w) => selectorMatches(selector, w.labels)).map((w) => w.name);
  if (selected.length === 0) return undefined;
  return `runs on ${labelText(selector)}${target.workloads.length > 1 ? `: ${selected.join(', ')}` : ''}`;
}

const targeted = (spec: { readonly targetRef?: unknown; readonly targetRefs?: readonly unknown[] | undefined }): boolean => spec.targetRef !== undefined || (spec.targetRefs ?? []).length > 0;

/** Why the entry applies to the target, or undefined. */
function whyApplies(e: ResourceEntry, namespace: string, r: Resolver, target: ConfigTarget, rootNamespace: string): string | undefined {
  const res = e.resource;
  if (isKind(res, SERVICE)) {
    const fqdn = `${res.metadata.name}.${namespace}.svc.${r.suffix}`;
    return target.hosts.includes(fqdn) ? `defines ${fqdn}` : undefined;
  }
  if (isKind(res, SERVICE_ENTRY)) {
    const named = (res.spec.hosts ?? []).filter((h) => r.names(h, namespace));
    return named.length > 0 ? `hosts: ${named.join(', ')}` : undefined;
  }
  if (isKind(res, DESTINATION_RULE)) return r.names(res.spec.host, namespace) ? `host: ${res.spec.host}` : undefined;
  if (isKind(res, VIRTUAL_SERVICE)) return virtualServiceWhy(res, namespace, r, target);
  if (isKind(res, ISTIO_GATEWAY)) return gatewayWhy(res.spec.selector, target);
  if (isKind(res, AUTHORIZATION_POLICY) || isKind(res, REQUEST_AUTHENTICATION) || isKind(res, WASM_PLUGIN))
    return policyWhy({ namespace, selector: res.spec.selector?.matchLabels, targeted: targeted(res.spec) }, target, rootNamespace, true);
  if (isKind(res, PEER_AUTHENTICATION)) return policyWhy({ namespace, selector: res.spec.selector?.matchLabels }, target, rootNamespace, true);
  if (isKind(res, TELEMETRY)) return policyWhy({ namespace, selector: res.spec.selector?.matchLabels, targeted: targeted(res.spec) }, target, rootNamespace, false);
  if (isKind(res, ENVOY_FILTER)) return policyWhy({ namespace, selector: res.spec.workloadSelector?.labels, targeted: targeted(res.spec) }, target, rootNamespace, true);
  return undefined;
}

/** The Sidecars in effect for the target's workloads, by `namespace/name`, with the workloads each serves. */
function sidecarsInEffect(snapshot: MeshSnapshot | undefined, target: ConfigTarget): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (snapshot === undefined) return out;
  for (const w of target.workloads) {
    const s = snapshot.sidecarFor({ namespace: w.namespace, labels: w.labels, ipAddresses: [] });
    if (s === undefined) continue;
    const k = `${s.ref.namespace}/${s.ref.name}`;
    out.set(k, [...(out.get(k) ?? []), w.name]);
  }
  return out;
}

export function appliedConfig(entries: readonly ResourceEntry[], snapshot: MeshSnapshot | undefined, target: ConfigTarget): AppliedConfig[] {
  const mesh = snapshot?.mesh ?? DEFAULT_MESH_CONFIG;
  const suffix = mesh.domainSuffix;
  const r: Resolver = {
    suffix,
    names: (host, namespace) => {
      const resolved = resolveShortname(host, namespace, suffix);
      return target.hosts.some((t) => hostMatches(resolved, t));
    },
  };
  const sidecars = sidecarsInEffect(snapshot, target);
  const out: AppliedConfig[] = [];
  for (const e of entries) {
    const { id, namespace } = entryId(e);
    const name = e.resource.metadata.name;
    let why: string | undefined;
    if (isKind(e.resource, SIDECAR)) {
      const served = sidecars.get(`${namespace}/${name}`);
      why = served === undefined ? undefined : `in effect${target.workloads.length > 1 ? ` for ${served.join(', ')}` : ''}`;
    } else {
      why = whyApplies(e, namespace, r, target, mesh.rootNamespace);
    }
    if (why !== undefined) out.push({ id, kind: e.kind.kind, namespace, name, why });
  }
  const rank = (k: string): number => {
    const i = KIND_ORDER.indexOf(k);
    return i < 0 ? KIND_ORDER.length : i;
  };
  return out.sort((a, b) => rank(a.kind) - rank(b.kind) || (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
